"""POST /api/chat/completions against a real OpenAI-compatible upstream on loopback, through a real ASGI server."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest

from apps.accounts.roles import MODEL_MANAGER
from apps.chat.models import Chat, CompletionUsage, Message
from apps.chat.tests.conftest import bearer, completion_body
from apps.chat.tests.factories import make_provider
from apps.models_registry.providers.services import user_llm_config_save

URL = "/api/chat/completions"
COMPANY_KEY = "sk-company-key-0001"


def detail(answer, status, contains=None):
    assert answer.status == status, (answer.status, answer.body[:300])
    body = answer.json()
    assert isinstance(body.get("detail"), str), body
    if contains:
        assert contains.lower() in body["detail"].lower(), body
    return body


@pytest.fixture
def provider(tenant, upstream):
    return make_provider(tenant.company, upstream.url, api_key=COMPANY_KEY)


# --- success --------------------------------------------------------------------------------------


def test_non_stream_returns_the_completion_with_usage_and_saves_the_chat(live, upstream, tenant, provider):
    body = completion_body(
        "acme.gpt-test",
        params={"temperature": 0.7, "max_tokens": 200, "top_p": 0.9},
        features={"web_search": False},
        tool_servers=[],
        model_item={"id": "acme.gpt-test", "name": "GPT test"},
    )
    answer = live.post(URL, body, bearer(tenant.user))
    assert answer.status == 200, answer.body
    data = answer.json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Echo: Explain API"}
    assert data["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert float(answer.headers["x-gateway-overhead-ms"]) >= 0
    seen = upstream.requests[-1]
    assert seen.headers["Authorization"] == f"Bearer {COMPANY_KEY}"
    assert seen.body["model"] == "gpt-test"
    assert (seen.body["temperature"], seen.body["max_tokens"], seen.body["top_p"]) == (0.7, 200, 0.9)
    chat = Chat.objects.get(pk=body["chat_id"])
    assert (chat.company_id, chat.user_id, chat.model, chat.title) == (
        tenant.company.pk,
        tenant.user.user.pk,
        "acme.gpt-test",
        "Explain API",
    )
    assert chat.options["features"] == {"web_search": False}
    assert chat.options["model_item"]["name"] == "GPT test"
    turns = list(chat.messages.values_list("role", "content"))
    assert turns == [("user", "Explain API"), ("assistant", "Echo: Explain API")]
    reply = Message.objects.get(pk=body["id"])
    assert (reply.prompt_tokens, reply.completion_tokens) == (11, 7)
    usage = CompletionUsage.objects.get(chat=chat)
    assert (usage.model, usage.provider, usage.outcome, usage.total_tokens, usage.stream) == (
        "acme.gpt-test",
        "acme",
        "ok",
        18,
        False,
    )
    assert usage.user_id == tenant.user.user.pk
    assert not usage.tokens_counted_locally


def test_stream_forwards_chunks_then_done(live, upstream, tenant, provider):
    body = completion_body("acme.gpt-test", stream=True)
    answer = live.post(URL, body, bearer(tenant.user))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "x-gateway-overhead-ms" in answer.headers
    events = answer.events()
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Echo: Explain API"
    assert not any(c.get("usage") for c in chunks)  # not asked for: the upstream's usage chunk is held back
    assert upstream.requests[-1].body["stream"] is True
    reply = Message.objects.get(pk=body["id"])
    assert reply.content == "Echo: Explain API"
    usage = CompletionUsage.objects.get(chat_id=body["chat_id"])
    assert (usage.stream, usage.outcome, usage.total_tokens) == (True, "ok", 18)
    assert usage.first_token_ms is not None


def test_stream_with_include_usage_ends_with_the_usage_chunk(live, upstream, tenant, provider):
    body = completion_body("acme.gpt-test", stream=True, stream_options={"include_usage": True})
    events = live.post(URL, body, bearer(tenant.user)).events()
    assert events[-1] == "[DONE]"
    assert events[-2]["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert events[-2]["choices"] == []


def test_usage_is_counted_locally_when_the_upstream_gives_none(live, upstream, tenant, provider):
    body = completion_body("acme.nousage", "Count these words", stream=True, stream_options={"include_usage": True})
    events = live.post(URL, body, bearer(tenant.user)).events()
    usage = events[-2]["usage"]
    assert usage["completion_tokens"] == 5  # "Echo", ":", "Count", "these", "words"
    assert usage["prompt_tokens"] == 3 + 3 + 3  # three words, plus the framing of one message and the reply
    record = CompletionUsage.objects.get(chat_id=body["chat_id"])
    assert record.tokens_counted_locally and record.total_tokens == usage["total_tokens"]
    plain = live.post(URL, completion_body("acme.nousage", "Count these words"), bearer(tenant.user)).json()
    assert plain["usage"] == usage


def test_streaming_is_real_each_chunk_leaves_as_it_arrives(live, upstream, tenant, provider):
    upstream.chunk_delay = 1.0
    conn = live.connection()
    body = json.dumps(completion_body("acme.gpt-test", stream=True))
    started = time.monotonic()
    conn.request("POST", URL, body=body, headers={"Content-Type": "application/json", **bearer(tenant.user)})
    response = conn.getresponse()
    first_line = response.readline()
    first_at = time.monotonic() - started
    rest = response.read()
    total = time.monotonic() - started
    conn.close()
    assert first_line.startswith(b"data: ")
    # The upstream pauses 1 s three times after its role chunk: streamed, the first line arrives about 3 s
    # before the end (measured relative to the end, so a busy machine's slower start does not matter);
    # buffered, both arrive together.
    assert total - first_at > 2.0, (first_at, total)
    assert rest.endswith(b"data: [DONE]\n\n")


def test_the_key_pair_authenticates_and_the_chat_has_no_person(live, upstream, tenant, provider):
    headers = {"X-API-Key": tenant.apikey, "X-Enc-Key": tenant.enckey}
    body = completion_body("acme.gpt-test")
    assert live.post(URL, body, headers).status == 200
    chat = Chat.objects.get(pk=body["chat_id"])
    assert chat.user_id is None and chat.company_id == tenant.company.pk


def test_the_builtin_model_needs_no_provider(live, tenant):
    answer = live.post(URL, completion_body("builtin.assistant", "Hello chat."), bearer(tenant.user))
    assert answer.json()["choices"][0]["message"]["content"] == "Hello! How can I help you?"
    body = completion_body("builtin.assistant", "What is an API?", stream=True, stream_options={"include_usage": True})
    events = live.post(URL, body, bearer(tenant.user)).events()
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-2])
    assert 'You said: "What is an API?"' in text
    assert events[-2]["usage"]["completion_tokens"] > 0
    assert Message.objects.get(pk=body["id"]).content == text


def test_variables_are_substituted_in_system_and_user_messages(live, upstream, tenant, provider):
    body = completion_body("acme.gpt-test")
    body["messages"] = [
        {"role": "system", "content": "User {{USER_NAME}} speaks {{USER_LANGUAGE}}; today is {{CURRENT_DATE}}."},
        {"role": "assistant", "content": "Hi {{USER_NAME}}"},
        {"role": "user", "content": [{"type": "text", "text": "I am in {{USER_LOCATION}}"}]},
    ]
    body["variables"] = {"{{USER_LANGUAGE}}": "en-US", "{{USER_LOCATION}}": "São Paulo, Brazil"}
    assert live.post(URL, body, bearer(tenant.user)).status == 200
    sent = upstream.requests[-1].body["messages"]
    assert sent[0]["content"].startswith("User Ada Lovelace speaks en-US; today is 20")
    assert "{{" not in sent[0]["content"]
    assert sent[1]["content"] == "Hi {{USER_NAME}}"  # assistant turns are left as they were
    assert sent[2]["content"][0]["text"] == "I am in São Paulo, Brazil"


def test_the_next_turn_of_a_chat_is_appended(live, upstream, tenant, provider):
    first = completion_body("acme.gpt-test", "Hello chat.")
    live.post(URL, first, bearer(tenant.user))
    second = completion_body("acme.gpt-test", chat_id=first["chat_id"])
    second["messages"] = [
        {"role": "user", "content": "Hello chat."},
        {"role": "assistant", "content": "Echo: Hello chat."},
        {"role": "user", "content": "Explain API"},
    ]
    assert live.post(URL, second, bearer(tenant.user)).status == 200
    turns = list(Message.objects.filter(chat_id=first["chat_id"]).values_list("role", "content"))
    assert turns == [
        ("user", "Hello chat."),
        ("assistant", "Echo: Hello chat."),
        ("user", "Explain API"),
        ("assistant", "Echo: Explain API"),
    ]
    assert Chat.objects.for_company(tenant.company).count() == 1


def test_per_user_keys_win_over_the_company_key(live, upstream, tenant, provider):
    user_llm_config_save(
        company=tenant.company, actor=tenant.user.user, user_id=tenant.user.user.pk,
        provider_id=provider.pk, api_key="sk-users-own-key-77",
    )  # fmt: skip
    live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.user))
    assert upstream.requests[-1].headers["Authorization"] == "Bearer sk-users-own-key-77"
    live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.manager))
    assert upstream.requests[-1].headers["Authorization"] == f"Bearer {COMPANY_KEY}"


def test_azure_openai_provider(live, upstream, tenant):
    make_provider(
        tenant.company, upstream.url, name="azure", kind="azure", api_key="azure-key-1234", api_version="2024-10-21"
    )
    answer = live.post(URL, completion_body("azure.gpt-5-chat", stream=True), bearer(tenant.user))
    assert answer.events()[-1] == "[DONE]"
    seen = upstream.requests[-1]
    assert seen.path == "/openai/deployments/gpt-5-chat/chat/completions"
    assert seen.headers["api-key"] == "azure-key-1234"
    assert "Authorization" not in seen.headers


# --- who may -----------------------------------------------------------------------------------------


def test_anonymous_and_bad_tokens_are_401(live, upstream, provider):
    body = completion_body("acme.gpt-test")
    detail(live.post(URL, body), 401)
    detail(live.post(URL, body, {"Authorization": "Bearer nonsense"}), 401)
    detail(live.post(URL, body, {"X-API-Key": "sk_x.y", "X-Enc-Key": "z"}), 401)
    assert upstream.requests == []


def test_another_companys_provider_is_refused(live, upstream, tenant, outsider):
    make_provider(outsider.company, upstream.url, name="globex")
    detail(live.post(URL, completion_body("globex.gpt-test"), bearer(tenant.user)), 404, "not found")
    assert upstream.requests == []
    assert not Chat.objects.exists()


def test_a_provider_limited_to_roles_refuses_others(live, upstream, tenant):
    make_provider(tenant.company, upstream.url, allowed_roles=[MODEL_MANAGER])
    detail(live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.user)), 403, "permission")
    assert upstream.requests == []
    member = tenant.member([MODEL_MANAGER])
    assert live.post(URL, completion_body("acme.gpt-test"), bearer(member)).status == 200
    assert live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.admin)).status == 200


def test_enterprise_id_must_be_the_callers_company(live, upstream, tenant, outsider, provider):
    body = completion_body("acme.gpt-test")
    headers = {**bearer(tenant.user), "X-Enterprise-Id": str(outsider.company.pk)}
    detail(live.post(URL, body, headers), 403, "X-Enterprise-Id")
    headers["X-Enterprise-Id"] = str(tenant.company.pk)
    assert live.post(URL, body, headers).status == 200


def test_another_users_chat_id_is_not_found(live, upstream, tenant, outsider, provider):
    mine = completion_body("acme.gpt-test")
    live.post(URL, mine, bearer(tenant.user))
    theirs = completion_body("acme.gpt-test", chat_id=mine["chat_id"])
    detail(live.post(URL, theirs, bearer(tenant.manager)), 404, "chat not found")
    detail(live.post(URL, theirs, bearer(outsider.user)), 404, "not found")
    assert Message.objects.filter(chat_id=mine["chat_id"]).count() == 2


def test_a_message_id_used_elsewhere_conflicts(live, upstream, tenant, provider):
    first = completion_body("acme.gpt-test")
    live.post(URL, first, bearer(tenant.user))
    again = completion_body("acme.gpt-test", id=first["id"])
    detail(live.post(URL, again, bearer(tenant.user)), 409, "message id")
    regenerate = completion_body("acme.gpt-test", "Other question", id=first["id"], chat_id=first["chat_id"])
    assert live.post(URL, regenerate, bearer(tenant.user)).status == 200
    assert Message.objects.get(pk=first["id"]).content == "Echo: Other question"


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "chat_id", "session_id", "model", "stream", "messages"])
def test_each_required_field_is_named_when_missing(live, tenant, field):
    body = completion_body("builtin.assistant")
    del body[field]
    answer = detail(live.post(URL, body, bearer(tenant.user)), 400, f"Missing {field}")
    assert answer["missing"] == [field]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"params": {"temperature": 2.5}}, "params.temperature"),
        ({"params": {"top_p": -0.1}}, "params.top_p"),
        ({"params": {"max_tokens": 0}}, "params.max_tokens"),
        ({"temperature": "hot"}, "params.temperature"),
        ({"params": []}, "Invalid params"),
        ({"stream": "yes"}, "Invalid stream"),
        ({"id": "not-a-uuid"}, "Invalid id"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": []}, "Invalid messages"),
        ({"features": "all"}, "Invalid features"),
        ({"tool_servers": {}}, "Invalid tool_servers"),
    ],
)
def test_invalid_values_are_400(live, tenant, change, message):
    body = {**completion_body("builtin.assistant"), **change}
    detail(live.post(URL, body, bearer(tenant.user)), 400, message)
    assert not Chat.objects.exists()


def test_malformed_json_and_non_objects_are_400(live, tenant):
    detail(live.post(URL, b"{not json", bearer(tenant.user)), 400, "Malformed")
    detail(live.post(URL, [1, 2], bearer(tenant.user)), 400, "JSON object")


def test_unknown_models_are_404(live, tenant, provider):
    for model in ("nobody.gpt", "builtin.unknown", "no-dot-at-all"):
        detail(live.post(URL, completion_body(model), bearer(tenant.user)), 404, "not found")


def test_too_large_bodies_are_413_and_other_methods_405(live, tenant, settings):
    settings.GATEWAY_MAX_REQUEST_BYTES = 2048
    detail(live.post(URL, completion_body("builtin.assistant", "x" * 4000), bearer(tenant.user)), 413)
    answer = detail(live.get(URL, bearer(tenant.user)), 405)
    assert answer is not None


def test_our_rate_limit_answers_429_with_retry_after(live, tenant, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 2
    for _ in range(2):
        assert live.post(URL, completion_body("builtin.assistant"), bearer(tenant.user)).status == 200
    answer = live.post(URL, completion_body("builtin.assistant"), bearer(tenant.user))
    detail(answer, 429, "limit")
    assert 1 <= int(answer.headers["retry-after"]) <= 60


# --- upstream faults ----------------------------------------------------------------------------------------


def test_upstream_5xx_is_retried_then_502(live, upstream, tenant, provider):
    detail(live.post(URL, completion_body("acme.error500"), bearer(tenant.user)), 502, "(500)")
    assert len(upstream.requests) == 3  # the first try and GATEWAY_MAX_RETRIES (2) more
    usage = CompletionUsage.objects.get()
    assert (usage.outcome, usage.total_tokens) == ("error", 0)


def test_a_flaky_upstream_succeeds_after_retries(live, upstream, tenant, provider):
    answer = live.post(URL, completion_body("acme.flaky", stream=True), bearer(tenant.user))
    assert answer.events()[-1] == "[DONE]"
    assert len(upstream.requests) == 3


def test_upstream_429_is_retried_then_passed_on_with_retry_after(live, upstream, tenant, provider, settings):
    upstream.retry_after = "0"
    detail(live.post(URL, completion_body("acme.ratelimit"), bearer(tenant.user)), 429, "rate limiting")
    assert len(upstream.requests) == 3
    upstream.requests.clear()
    upstream.retry_after = "30"  # longer than GATEWAY_RETRY_MAX_WAIT_SECONDS: told to the caller at once
    answer = live.post(URL, completion_body("acme.ratelimit"), bearer(tenant.user))
    detail(answer, 429)
    assert answer.headers["retry-after"] == "30"
    assert len(upstream.requests) == 1


def test_upstream_client_errors_are_passed_on(live, upstream, tenant, provider):
    detail(live.post(URL, completion_body("acme.badrequest"), bearer(tenant.user)), 400, "max_tokens is too large")
    detail(live.post(URL, completion_body("acme.missing"), bearer(tenant.user)), 404, "does not exist")
    assert len(upstream.requests) == 2  # not retried


def test_an_unreachable_provider_is_502(live, tenant, upstream):
    make_provider(tenant.company, "http://127.0.0.1:9")
    detail(live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.user)), 502, "could not be reached")


def test_a_private_provider_address_is_refused_unless_allowed(live, tenant, upstream, settings):
    make_provider(tenant.company, upstream.url)
    settings.OUTBOUND_ALLOW_PRIVATE = False
    detail(live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.user)), 400, "private")
    assert upstream.requests == []


def test_a_slow_upstream_times_out_with_504(live, upstream, tenant, provider, settings):
    settings.GATEWAY_READ_TIMEOUT_SECONDS = 0.3
    upstream.delay = 1.5
    started = time.monotonic()
    detail(live.post(URL, completion_body("acme.slow"), bearer(tenant.user)), 504, "in time")
    assert time.monotonic() - started < 1.4
    assert CompletionUsage.objects.get().outcome == "timeout"


def test_a_stream_that_stalls_ends_with_an_error_event(live, upstream, tenant, provider, settings):
    settings.GATEWAY_READ_TIMEOUT_SECONDS = 0.3
    upstream.delay = 1.5
    body = completion_body("acme.stall", stream=True)
    events = live.post(URL, body, bearer(tenant.user)).events()
    assert events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == 504
    assert Message.objects.get(pk=body["id"]).content == "Echo"  # what arrived is kept
    assert CompletionUsage.objects.get().outcome == "timeout"


def test_a_stream_cut_mid_way_ends_with_an_error_event(live, upstream, tenant, provider):
    body = completion_body("acme.cut", stream=True)
    answer = live.post(URL, body, bearer(tenant.user))
    assert answer.status == 200
    events = answer.events()
    assert [e["choices"][0]["delta"].get("content") for e in events[:3]] == ["", "Echo", ": par"]
    assert "broke off" in events[-2]["error"]["message"]
    assert events[-1] == "[DONE]"
    usage = CompletionUsage.objects.get()
    assert (usage.outcome, usage.completion_tokens) == ("error", count_of("Echo: par"))
    assert len(upstream.requests) == 1  # never retried once bytes have gone out


def count_of(text):
    from apps.models_registry.providers.tokens import count_tokens

    return count_tokens(text)


def test_a_client_that_goes_away_cancels_the_upstream(live, upstream, tenant, provider):
    from apps.core.testing import wait_for

    conn = live.connection()
    body = json.dumps(completion_body("acme.long", stream=True))
    conn.request("POST", URL, body=body, headers={"Content-Type": "application/json", **bearer(tenant.user)})
    response = conn.getresponse()
    lines = [response.readline() for _ in range(6)]
    assert lines[0].startswith(b"data: ")
    response.close()
    conn.sock.close() if conn.sock else None
    conn.close()
    wait_for(lambda: "disconnected" in upstream.events, timeout=10)
    assert "finished" not in upstream.events
    usage = wait_for(lambda: CompletionUsage.objects.filter(outcome="cancelled").first(), timeout=10)
    assert usage.completion_tokens > 0
    assert Message.objects.filter(role="assistant", content__startswith="w0 w1").exists()


# --- secrets ----------------------------------------------------------------------------------------------------


def test_provider_keys_never_reach_the_logs(live, upstream, tenant, provider, caplog):
    caplog.set_level(logging.DEBUG)
    live.post(URL, completion_body("acme.gpt-test"), bearer(tenant.user))
    live.post(URL, completion_body("acme.error500"), bearer(tenant.user))
    live.post(URL, completion_body("acme.badrequest", stream=True), bearer(tenant.user))
    assert COMPANY_KEY not in caplog.text
    assert COMPANY_KEY not in "".join(str(u.error) for u in CompletionUsage.objects.all())


# --- the official SDK -------------------------------------------------------------------------------------------


def test_the_official_openai_client_works_for_stream_and_non_stream(live, upstream, tenant, provider):
    from openai import NotFoundError, OpenAI

    client = OpenAI(base_url=f"{live.url}/api", api_key=tenant.user.token, max_retries=0)
    ids = {"id": str(uuid.uuid4()), "chat_id": str(uuid.uuid4()), "session_id": "sdk"}
    completion = client.chat.completions.create(
        model="acme.gpt-test",
        messages=[{"role": "user", "content": "Explain API"}],
        stream=False,
        extra_body=ids,
    )
    assert completion.choices[0].message.content == "Echo: Explain API"
    assert completion.usage is not None and completion.usage.total_tokens == 18
    ids = {**ids, "id": str(uuid.uuid4())}
    stream = client.chat.completions.create(
        model="acme.gpt-test",
        messages=[{"role": "user", "content": "Stream it"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_body=ids,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Stream it"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 18
    models = [m.id for m in client.models.list()]
    assert "builtin.assistant" in models and "acme.gpt-test" in models
    with pytest.raises(NotFoundError) as error:
        client.chat.completions.create(
            model="nobody.x", messages=[{"role": "user", "content": "x"}], stream=False, extra_body=ids
        )
    assert error.value.status_code == 404


@pytest.mark.postgres  # the suite's in-memory SQLite locks whole tables between threads
def test_concurrent_turns_in_one_new_chat_make_one_chat(live, upstream, tenant, provider):
    from concurrent.futures import ThreadPoolExecutor

    chat_id = str(uuid.uuid4())
    bodies = [completion_body("acme.gpt-test", f"question {i}", chat_id=chat_id) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda body: live.post(URL, body, bearer(tenant.user)).status, bodies))
    assert statuses == [200] * 6
    chat = Chat.objects.get()
    assert (str(chat.pk), chat.number) == (chat_id, 1)
    assert chat.messages.filter(role="assistant").count() == 6
    assert CompletionUsage.objects.filter(chat=chat).count() == 6
