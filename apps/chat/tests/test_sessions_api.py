"""The chat stream dialect: /v1/chat/stream (live server, fake upstream), switch-model, history, sessions, upload."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.roles import MODEL_MANAGER
from apps.chat.models import Attachment, Chat, CompletionUsage, Message
from apps.chat.tests.conftest import bearer
from apps.chat.tests.factories import chat_with_turns, make_provider, pdf_bytes
from apps.core.testing import assert_detail_error, wait_for

STREAM = "/v1/chat/stream"


def sse_events(body: bytes) -> list[tuple[str, str]]:
    """(event name, data) of each SSE event; the data lines of one event joined by newlines."""
    events = []
    for block in body.decode().split("\n\n"):
        if not block:
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, "\n".join(data)))
    return events


def tokens(body: bytes) -> str:
    events = sse_events(body)
    assert events[-1] == ("message", "[DONE]"), events[-3:]
    return "".join(data for name, data in events[:-1] if name == "message")


def stream_body(text: str = "Tell me a story", model: str = "acme.gpt-test", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


@pytest.fixture
def provider(tenant: Any, upstream: Any) -> Any:
    return make_provider(tenant.company, upstream.url)


# --- POST /v1/chat/stream ----------------------------------------------------------------------------------


def test_stream_without_session_creates_one_and_streams_raw_tokens(live, upstream, tenant, provider):
    answer = live.post(STREAM, stream_body(temperature=0.3, max_tokens=50), bearer(tenant.user))
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert tokens(answer.body) == "Echo: Tell me a story"
    chat = Chat.objects.get(number=int(answer.headers["x-session-id"]), company=tenant.company)
    assert (chat.user_id, chat.model, chat.title) == (tenant.user.user.pk, "acme.gpt-test", "Tell me a story")
    assert list(chat.messages.values_list("role", "content")) == [
        ("user", "Tell me a story"),
        ("assistant", "Echo: Tell me a story"),
    ]
    sent = upstream.requests[-1].body
    assert (sent["temperature"], sent["max_tokens"], sent["stream"]) == (0.3, 50, True)
    assert CompletionUsage.objects.get(chat=chat).source == "stream"


def test_stream_continues_a_session_by_number_or_uuid_with_its_whole_history(live, upstream, tenant, provider):
    first = live.post(STREAM, stream_body("One"), bearer(tenant.user))
    number = int(first.headers["x-session-id"])
    # The client may resend the conversation: only the last message is new.
    body = stream_body("Two", session_id=number)
    body["messages"] = [{"role": "user", "content": "One"}, {"role": "assistant", "content": "x"}, *body["messages"]]
    second = live.post(STREAM, body, bearer(tenant.user))
    assert tokens(second.body) == "Echo: Two"
    assert second.headers["x-session-id"] == str(number)
    sent = upstream.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "One"),
        ("assistant", "Echo: One"),
        ("user", "Two"),
    ]
    chat = Chat.objects.get(company=tenant.company, number=number)
    third = live.post(STREAM, stream_body("Three", session_id=str(chat.pk)), bearer(tenant.user))
    assert tokens(third.body) == "Echo: Three"
    assert chat.messages.count() == 6


def test_a_new_session_keeps_the_earlier_messages_it_was_sent(live, upstream, tenant, provider):
    body = stream_body("And now?")
    body["messages"] = [{"role": "system", "content": "Be terse."}, *body["messages"]]
    answer = live.post(STREAM, body, bearer(tenant.user))
    assert tokens(answer.body) == "Echo: And now?"
    assert [m["role"] for m in upstream.requests[-1].body["messages"]] == ["system", "user"]
    chat = Chat.objects.get(company=tenant.company, number=int(answer.headers["x-session-id"]))
    assert list(chat.messages.values_list("role", flat=True)) == ["system", "user", "assistant"]


def test_a_token_with_line_breaks_is_sent_as_several_data_lines(live, upstream, tenant, provider):
    answer = live.post(STREAM, stream_body("first line\nsecond line"), bearer(tenant.user))
    assert tokens(answer.body) == "Echo: first line\nsecond line"
    # the event carrying the line break has two data lines: "...line" then "s..."
    assert any(block.count(b"data: ") == 2 for block in answer.body.split(b"\n\n")), answer.body
    assert all(line.startswith((b"data: ", b"event: ")) for line in answer.body.split(b"\n") if line), (
        answer.body
    )  # no bare line could be mistaken for a field


def test_stream_false_answers_with_json(live, upstream, tenant, provider):
    answer = live.post(STREAM, stream_body("Hi", stream=False), bearer(tenant.user))
    assert answer.status == 200
    body = answer.json()
    assert body["message"] == {"role": "assistant", "content": "Echo: Hi"}
    assert body["usage"]["total_tokens"] == 18
    assert str(body["session_id"]) == answer.headers["x-session-id"]


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "acme.gpt-test"}, "messages"),
        ({"model": "acme.gpt-test", "messages": []}, "messages"),
        ({"model": "acme.gpt-test", "messages": [{"role": "assistant", "content": "x"}]}, "last message"),
        ({"model": "acme.gpt-test", "messages": [{"role": "robot", "content": "x"}]}, "messages"),
        (stream_body(temperature=3), "temperature"),
        (stream_body(max_tokens=0), "max_tokens"),
        (stream_body(session_id="not-a-session"), "session_id"),
        (stream_body(model="nope.model"), "invalid model"),
        (stream_body(model="no-dot"), "invalid model"),
    ],
)
def test_stream_refuses_bad_input_with_400_and_saves_nothing(live, tenant, provider, body, contains):
    answer = live.post(STREAM, body, bearer(tenant.user))
    assert answer.status == 400, answer.body
    assert contains.lower() in answer.json()["detail"].lower()
    assert not Chat.objects.exists() and not Message.objects.exists()


def test_stream_refuses_a_malformed_body_and_no_credentials(live, tenant, provider):
    assert live.post(STREAM, b"{nope", bearer(tenant.user)).status == 400
    answer = live.post(STREAM, stream_body())
    assert answer.status == 401 and "detail" in answer.json()


def test_stream_in_another_persons_or_companys_session_is_not_found(live, tenant, outsider, provider):
    theirs = chat_with_turns(tenant.company, tenant.admin.user, "mine")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "foreign")
    for session in (theirs.number, str(theirs.pk), str(foreign.pk), 999):
        answer = live.post(STREAM, stream_body(session_id=session), bearer(tenant.user))
        assert answer.status == 404, (session, answer.body)
        assert "not found" in answer.json()["detail"].lower()
    assert Message.objects.count() == 2


def test_a_model_limited_to_other_roles_is_refused(live, upstream, tenant):
    make_provider(tenant.company, upstream.url, name="vip", allowed_roles=[MODEL_MANAGER])
    answer = live.post(STREAM, stream_body(model="vip.gpt-test"), bearer(tenant.user))
    assert answer.status == 403, answer.body
    assert live.post(STREAM, stream_body(model="vip.gpt-test"), bearer(tenant.admin)).status == 200


def test_an_upstream_failure_before_the_first_token_is_a_detail_error(live, tenant, provider):
    answer = live.post(STREAM, stream_body(model="acme.error500"), bearer(tenant.user))
    assert answer.status == 502, answer.body
    assert isinstance(answer.json()["detail"], str)
    chat = Chat.objects.get(company=tenant.company)
    assert list(chat.messages.values_list("role", flat=True)) == ["user"]  # the question is kept


def test_an_upstream_failure_mid_stream_is_an_error_event_then_done(live, tenant, provider):
    answer = live.post(STREAM, stream_body("Hi", model="acme.cut"), bearer(tenant.user))
    assert answer.status == 200
    events = sse_events(answer.body)
    assert events[-1] == ("message", "[DONE]")
    assert events[-2][0] == "error" and "detail" in json.loads(events[-2][1])
    assert Message.objects.get(role="assistant").content == "Echo: par"


def test_a_client_that_goes_away_cancels_the_reply_and_keeps_what_arrived(live, upstream, tenant, provider):
    conn = live.connection()
    payload = json.dumps(stream_body("Go", model="acme.long")).encode()
    conn.request("POST", STREAM, body=payload, headers={"Content-Type": "application/json", **bearer(tenant.user)})
    response = conn.getresponse()
    assert response.status == 200
    response.read1(100)
    time.sleep(0.2)
    conn.sock.close()
    conn.close()
    usage = wait_for(lambda: CompletionUsage.objects.filter(outcome="cancelled").first(), timeout=10)
    assert usage is not None
    assert wait_for(lambda: "disconnected" in upstream.events, timeout=10)
    reply = Message.objects.get(role="assistant")
    assert reply.content.startswith("w0 ")


# --- switch-model --------------------------------------------------------------------------------------------


def test_switch_model_keeps_the_history_and_the_next_message_uses_the_new_model(live, upstream, tenant, provider):
    first = live.post(STREAM, stream_body("Remember 7"), bearer(tenant.user))
    number = int(first.headers["x-session-id"])
    switched = live.post("/v1/chat/switch-model", {"session_id": number, "model": "builtin.assistant"},
                         bearer(tenant.user))  # fmt: skip
    assert switched.status == 200, switched.body
    assert switched.json() == {
        "session_id": number,
        "model": "builtin.assistant",
        "messages": [
            {"role": "user", "content": "Remember 7"},
            {"role": "assistant", "content": "Echo: Remember 7"},
        ],
        "title": "Remember 7",
    }
    back = live.post("/v1/chat/switch-model", {"session_id": number, "model": "acme.echo"}, bearer(tenant.user))
    assert back.json()["model"] == "acme.echo"
    body = stream_body("Next", session_id=number)
    body.pop("model")
    body["model"] = "acme.echo"
    live.post(STREAM, body, bearer(tenant.user))
    sent = upstream.requests[-1].body
    assert sent["model"] == "echo"
    assert [m["content"] for m in sent["messages"]] == ["Remember 7", "Echo: Remember 7", "Next"]


def test_switch_model_errors(tenant, outsider, provider):
    client = tenant.user.client
    mine = chat_with_turns(tenant.company, tenant.user.user, "hi")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "hi")
    url = "/v1/chat/switch-model"
    assert_detail_error(client.post(url, {"session_id": mine.number, "model": "nope.x"}, format="json"), 400, "model")
    assert_detail_error(client.post(url, {"session_id": mine.number}, format="json"), 400, "model")
    assert_detail_error(client.post(url, {"model": "builtin.assistant"}, format="json"), 400, "session_id")
    for session in (str(foreign.pk), 4242):
        answer = client.post(url, {"session_id": session, "model": "builtin.assistant"}, format="json")
        assert_detail_error(answer, 404, "not found")
    other_person = chat_with_turns(tenant.company, tenant.admin.user, "theirs")
    answer = client.post(url, {"session_id": other_person.number, "model": "builtin.assistant"}, format="json")
    assert_detail_error(answer, 404)
    assert_detail_error(
        __import__("rest_framework.test", fromlist=["APIClient"]).APIClient().post(url, {}, format="json"), 401
    )
    mine.refresh_from_db()
    assert mine.model == "builtin.assistant"


# --- history ----------------------------------------------------------------------------------------------


def _aged(chat: Chat, days: int) -> Chat:
    moment = timezone.now() - dt.timedelta(days=days)
    Chat.objects.filter(pk=chat.pk).update(created_at=moment, updated_at=moment)
    chat.refresh_from_db()
    return chat


def test_history_pages_newest_first_with_messages(tenant, outsider):
    chats = [_aged(chat_with_turns(tenant.company, tenant.user.user, f"q{i}", f"a{i}"), days=10 - i) for i in range(5)]
    chat_with_turns(tenant.company, tenant.admin.user, "not mine")
    chat_with_turns(outsider.company, outsider.user.user, "not ours")
    body = tenant.user.client.get("/v1/chat/history", {"page": 1, "page_size": 2}).json()
    assert (body["total"], body["page"], body["page_size"]) == (5, 1, 2)
    assert [s["id"] for s in body["sessions"]] == [chats[4].number, chats[3].number]
    first = body["sessions"][0]
    assert first["messages"] == [{"role": "user", "content": "q4"}, {"role": "assistant", "content": "a4"}]
    assert first["user_id"] == str(tenant.user.user.pk)
    assert first["application_id"] == str(tenant.company.pk)
    assert first["created_at"].endswith("Z")
    last = tenant.user.client.get("/v1/chat/history", {"page": 3, "page_size": 2}).json()
    assert [s["id"] for s in last["sessions"]] == [chats[0].number]
    beyond = tenant.user.client.get("/v1/chat/history", {"page": 4, "page_size": 2}).json()
    assert beyond["sessions"] == [] and beyond["total"] == 5
    assert tenant.user.client.get("/v1/chat/history").json()["page_size"] == 10


def test_history_filters_by_dates_and_model(tenant):
    old = _aged(chat_with_turns(tenant.company, tenant.user.user, "old"), days=30)
    recent = _aged(chat_with_turns(tenant.company, tenant.user.user, "recent", model="acme.gpt-test"), days=1)
    client = tenant.user.client
    since = (timezone.now() - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [s["id"] for s in client.get("/v1/chat/history", {"start_date": since}).json()["sessions"]] == [
        recent.number
    ]
    before = (timezone.now() - dt.timedelta(days=7)).date().isoformat()
    assert [s["id"] for s in client.get("/v1/chat/history", {"end_date": before}).json()["sessions"]] == [old.number]
    by_model = client.get("/v1/chat/history", {"model": "acme.gpt-test"}).json()
    assert [s["id"] for s in by_model["sessions"]] == [recent.number] and by_model["total"] == 1


@pytest.mark.parametrize(
    ("query", "contains"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2024-02-30"}, "end_date"),
        ({"start_date": "2024-03-01", "end_date": "2024-02-01"}, "end_date"),
    ],
)
def test_history_refuses_bad_queries(tenant, query, contains):
    assert_detail_error(tenant.user.client.get("/v1/chat/history", query), 400, contains)


def test_history_needs_credentials_and_the_key_pair_sees_the_company(anon, tenant):
    assert_detail_error(anon.get("/v1/chat/history"), 401)
    chat_with_turns(tenant.company, tenant.user.user, "a")
    chat_with_turns(tenant.company, tenant.admin.user, "b")
    assert tenant.key_client().get("/v1/chat/history").json()["total"] == 2


def test_history_queries_do_not_grow_with_the_page(tenant, django_assert_max_num_queries):
    for i in range(12):
        chat_with_turns(tenant.company, tenant.user.user, f"q{i}", f"a{i}")
    with django_assert_max_num_queries(8):
        body = tenant.user.client.get("/v1/chat/history", {"page_size": 12}).json()
    assert len(body["sessions"]) == 12


# --- DELETE /v1/chat/sessions/{id} ---------------------------------------------------------------------------


def test_delete_session_by_number_or_uuid(tenant):
    one = chat_with_turns(tenant.company, tenant.user.user, "a", "b")
    two = chat_with_turns(tenant.company, tenant.user.user, "c")
    client = tenant.user.client
    answer = client.delete(f"/v1/chat/sessions/{one.number}")
    assert answer.status_code == 200 and answer.json() == {"message": "Session deleted successfully"}
    assert client.delete(f"/v1/chat/sessions/{two.pk}").status_code == 200
    assert not Chat.objects.exists() and not Message.objects.exists()
    assert_detail_error(client.delete(f"/v1/chat/sessions/{one.number}"), 404, "not found")


def test_delete_session_of_another_person_or_company_is_not_found(anon, tenant, outsider):
    theirs = chat_with_turns(tenant.company, tenant.admin.user, "a")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "b")
    client = tenant.user.client
    for ref in (theirs.number, theirs.pk, foreign.pk, "garbage"):
        assert_detail_error(client.delete(f"/v1/chat/sessions/{ref}"), 404)
    assert_detail_error(anon.delete(f"/v1/chat/sessions/{theirs.number}"), 401)
    assert Chat.objects.count() == 2


# --- POST /api/chat/sessions/{id}/upload ---------------------------------------------------------------------


def _pdf_upload(client: Any, chat: Chat, data: bytes, name: str = "document.pdf", *, by_uuid: bool = False) -> Any:
    ref = chat.pk if by_uuid else chat.number
    return client.post(f"/api/chat/sessions/{ref}/upload", {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_upload_a_pdf_stores_it_with_its_text_and_page_count(tenant):
    chat = chat_with_turns(tenant.company, tenant.user.user, "hi")
    answer = _pdf_upload(tenant.user.client, chat, pdf_bytes("Invoice 42", "Total 99 euros"), "../../etc/x.pdf")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["message"] == "File uploaded successfully"
    file = body["file"]
    assert file["filename"] == "x.pdf" and file["mime_type"] == "application/pdf"
    assert file["metadata"] == {"page_count": 2}
    assert "Invoice 42" in file["extracted_text"] and "Total 99 euros" in file["extracted_text"]
    attachment = Attachment.objects.get(pk=file["id"])
    assert attachment.file.name.startswith(f"chat-attachments/{tenant.company.pk}/{chat.pk}/")
    assert attachment.file.read() == pdf_bytes("Invoice 42", "Total 99 euros")
    assert file["file_size"] == attachment.size


def test_upload_refuses_what_is_not_a_pdf_too_big_missing_or_foreign(tenant, outsider, settings):
    chat = chat_with_turns(tenant.company, tenant.user.user, "hi")
    client = tenant.user.client
    assert_detail_error(_pdf_upload(client, chat, b"just text pretending", "fake.pdf"), 415, "pdf")
    assert_detail_error(_pdf_upload(client, chat, b"%PDF-1.4 broken"), 400)
    settings.CHAT_UPLOAD_MAX_BYTES = 1024
    assert_detail_error(_pdf_upload(client, chat, pdf_bytes("x" * 2000)), 413)
    settings.CHAT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    missing = client.post(f"/api/chat/sessions/{chat.number}/upload", {}, format="multipart")
    assert_detail_error(missing, 400, "file")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "x")
    assert_detail_error(_pdf_upload(client, foreign, pdf_bytes("x"), by_uuid=True), 404)
    other_person = chat_with_turns(tenant.company, tenant.admin.user, "x")
    assert_detail_error(_pdf_upload(client, other_person, pdf_bytes("x")), 404)
    assert not Attachment.objects.exists()


def test_an_uploaded_pdf_is_context_for_the_next_answers(live, upstream, tenant, provider):
    first = live.post(STREAM, stream_body("Hello"), bearer(tenant.user))
    chat = Chat.objects.get(company=tenant.company, number=int(first.headers["x-session-id"]))
    client = tenant.user.client
    assert _pdf_upload(client, chat, pdf_bytes("The secret code is 4711")).status_code == 201
    live.post(STREAM, stream_body("What is the code?", session_id=chat.number), bearer(tenant.user))
    system = upstream.requests[-1].body["messages"][0]
    assert system["role"] == "system" and "The secret code is 4711" in system["content"]


def test_a_tenant_chat_is_continued_through_the_stream_dialect_and_read_back(live, upstream, tenant, provider):
    """Created by the tenant API, answered through /v1/chat/stream (key pair), read through three dialects."""
    created = live.post("/api/v1/chats/", {"user_id": "end-7", "model": "acme.gpt-test"},
                        {"X-API-Key": tenant.apikey})  # fmt: skip
    assert created.status == 201, created.body
    chat_id = created.json()["id"]
    keys = {"X-API-Key": tenant.apikey, "X-Enc-Key": tenant.enckey}
    answer = live.post(STREAM, stream_body("Hello from the stream", session_id=chat_id), keys)
    assert tokens(answer.body) == "Echo: Hello from the stream"
    assert answer.headers["x-session-id"] == str(created.json()["number"])
    messages = live.get(f"/api/v1/chats/{chat_id}/messages", {"X-API-Key": tenant.apikey}).json()
    assert [m["content"] for m in messages["messages"]] == ["Hello from the stream", "Echo: Hello from the stream"]
    conversation = live.get(f"/chat/conversations/{chat_id}/messages", keys).json()
    assert [m["role"] for m in conversation] == ["user", "assistant"]
    history = live.get("/v1/chat/history", keys).json()
    assert history["sessions"][0]["uuid"] == chat_id and len(history["sessions"][0]["messages"]) == 2
