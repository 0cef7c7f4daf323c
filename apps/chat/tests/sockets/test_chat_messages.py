"""Messages over /ws/chat against a real daphne: the reply's events, stored messages, errors, stop mid-stream."""

from __future__ import annotations

import time
from typing import Any

import pytest

from apps.chat import services
from apps.chat.models import Chat, CompletionUsage, EndUser, Message
from apps.chat.tests.daphne import Daphne, open_socket
from apps.chat.tests.factories import make_provider
from apps.core.testing import Tenant, assert_ok, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def provider(tenant: Tenant, upstream: Any) -> Any:
    return make_provider(tenant.company, upstream.url)


def key_socket(server: Daphne, tenant: Tenant, user_id: str = "user123", **params: Any) -> Any:
    return open_socket(server.ws, "/ws/chat", api_key=tenant.apikey, user_id=user_id, **params)


def test_a_message_gets_every_event_and_both_messages_are_stored(daphne: Daphne, tenant: Tenant) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123")
    ws = key_socket(daphne, tenant, chat_id=str(chat.pk))
    assert ws.event()["type"] == "connection_established"
    ws.send({"content": "Hello, I need help with my account"})
    ended, events = ws.until("message_stream_ended")
    types = [e["type"] for e in events]
    assert types[:2] == ["message_received", "message_stream_started"]
    assert set(types[2:-1]) == {"message_stream_token"} and len(types) > 4
    received = events[0]["message"]
    assert (received["role"], received["content"]) == ("user", "Hello, I need help with my account")
    reply = ended["message"]
    assert reply["id"] == events[1]["message_id"]
    assert reply["content"] == "".join(e["token"] for e in events if e["type"] == "message_stream_token")
    assert ended["usage"]["total_tokens"] == ended["usage"]["prompt_tokens"] + ended["usage"]["completion_tokens"] > 0
    stored = list(Message.objects.filter(chat=chat).order_by("created_at").values_list("id", "role", "content"))
    assert [(str(i), r, c) for i, r, c in stored] == [
        (received["id"], "user", received["content"]),
        (reply["id"], "assistant", reply["content"]),
    ]
    # the tenant REST API shows the very same messages
    listed = tenant.key_client().get(f"/api/v1/chats/{chat.pk}/messages")
    assert listed.status_code == 200, listed.content
    assert listed.json()["messages"] == [received, reply]
    # the socket stays usable for the next turn, which sees the history
    ws.send({"content": "And another thing"})
    ended, _ = ws.until("message_stream_ended")
    assert Message.objects.filter(chat=chat).count() == 4
    ws.close()


def test_socket_without_chat_id_opens_a_chat_and_announces_a_new_end_user(daphne: Daphne, tenant: Tenant) -> None:
    ws = key_socket(daphne, tenant, user_id="fresh-user")
    established = ws.event()
    created = ws.event()
    assert created == {"type": "user_created", "user": {"user_id": "fresh-user"}}
    chat = Chat.objects.get(pk=established["chat_id"])
    assert chat.company_id == tenant.company.pk
    assert chat.end_user == EndUser.objects.get(company=tenant.company, external_id="fresh-user")
    ws.close()
    again = key_socket(daphne, tenant, user_id="fresh-user", chat_id=str(chat.pk))
    assert again.event()["type"] == "connection_established"
    again.send({"type": "ping"})
    assert again.event()["type"] == "pong"  # no user_created the second time
    again.close()


def test_staff_socket_with_jwt_chats_with_the_chosen_model(daphne: Daphne, tenant: Tenant, provider: Any) -> None:
    ws = open_socket(daphne.ws, "/ws/chat", subprotocols=["bearer", tenant.user.token], model="acme.gpt-test")
    chat_id = ws.event()["chat_id"]
    ws.send({"content": "Explain API"})
    ended, _ = ws.until("message_stream_ended")
    assert ended["message"]["content"] == "Echo: Explain API"
    chat = Chat.objects.get(pk=chat_id)
    assert (chat.user_id, chat.model) == (tenant.user.user.pk, "acme.gpt-test")
    ws.close()


def test_provider_failure_is_an_error_event_and_the_socket_stays_usable(
    daphne: Daphne, tenant: Tenant, provider: Any
) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123", model="acme.error500")
    ws = key_socket(daphne, tenant, chat_id=str(chat.pk))
    ws.event()
    ws.send({"content": "Hi"})
    error, _ = ws.until("error")
    assert error["code"] == "provider_error"
    assert Message.objects.filter(chat=chat, role="user", content="Hi").exists()  # kept, as the REST dialects do
    ws.send({"type": "ping"})
    assert ws.event()["type"] == "pong"
    ws.close()


def test_too_long_message_is_invalid(daphne: Daphne, tenant: Tenant) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123")
    ws = key_socket(daphne, tenant, chat_id=str(chat.pk))
    ws.event()
    ws.send({"content": "x" * 40_000})
    event = ws.event()
    assert (event["type"], event["code"]) == ("error", "invalid_message")
    assert not Message.objects.filter(chat=chat).exists()
    ws.close()


def test_second_message_while_streaming_is_refused_then_stop_cancels_the_stream(
    daphne: Daphne, tenant: Tenant, provider: Any, upstream: Any
) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123", model="acme.long")
    ws = key_socket(daphne, tenant, chat_id=str(chat.pk))
    ws.event()
    ws.send({"content": "Go on"})
    ws.until("message_stream_token")
    ws.send({"content": "Me too"})
    refused, _ = ws.until("error")
    assert refused["code"] == "stream_in_progress"
    online = assert_ok(tenant.admin.client.get("/api/v1/toolbox/tools/chats/online/get"))
    assert [c["chatid"] for c in online["chats"]] == [str(chat.pk)]
    started = time.monotonic()
    assert_ok(tenant.manager.client.put(f"/api/v1/toolbox/tools/chat/stop?chatid={chat.pk}"))
    close_code, _, events = ws.closed(timeout=5)
    assert time.monotonic() - started < 1.0
    assert close_code == 4100
    assert events[-1]["code"] == "chat_stopped"
    assert "message_stream_ended" not in [e["type"] for e in events]
    wait_for(lambda: "disconnected" in upstream.events, timeout=5)  # the upstream request was closed
    usage = wait_for(lambda: CompletionUsage.objects.filter(chat=chat).first(), timeout=5)
    assert usage.outcome == "cancelled"
    partial = Message.objects.get(chat=chat, role="assistant")
    assert partial.content.startswith("w0 ")
