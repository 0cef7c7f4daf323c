"""The chat and events sockets against a real daphne process: credentials, refusals, limits, events, stop."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from apps.chat import services
from apps.chat.models import Chat, ChatState
from apps.chat.tests.daphne import Daphne, open_socket
from apps.core import realtime
from apps.core.testing import Tenant, assert_ok, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def tenant_chat(tenant: Tenant, user_ref: str = "user123", **fields: Any) -> Chat:
    return services.tenant_chat_create(company=tenant.company, external_id=user_ref, **fields)[0]


def staff_chat(member: Any, tenant: Tenant) -> Chat:
    return services.dialect_chat_create(company=tenant.company, user=member.user)


def chat_socket(server: Daphne, tenant: Tenant, chat: Any, user_id: str = "user123", **params: Any) -> Any:
    return open_socket(
        server.ws, "/ws/chat", api_key=tenant.apikey, user_id=user_id, chat_id=str(getattr(chat, "pk", chat)), **params
    )


# --- credentials and refusals -------------------------------------------------------------------------------


def test_api_key_socket_is_established_for_the_chat_and_end_user(daphne: Daphne, tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    ws = chat_socket(daphne, tenant, chat)
    event = ws.event()
    assert event["type"] == "connection_established"
    assert event["chat_id"] == str(chat.pk)
    assert event["user"]["user_id"] == "user123"
    ws.close()


def test_chat_number_is_accepted_as_chat_id(daphne: Daphne, tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    ws = chat_socket(daphne, tenant, str(chat.number))
    assert ws.event()["chat_id"] == str(chat.pk)
    ws.close()


@pytest.mark.parametrize(
    ("params", "code", "close_code"),
    [
        ({"api_key": "sk_nothere.secret"}, "invalid_api_key", 4001),
        ({"api_key": ""}, "unauthorized", 4001),
        ({"user_id": None}, "missing_user_id", 4000),
        ({"chat_id": None, "model": "nosuch.model"}, "invalid_request", 4000),
        ({"chat_id": None, "actor_id": "00000000-0000-0000-0000-000000000000"}, "not_found", 4004),
        ({"chat_id": None, "user_id": "x" * 201}, "invalid_request", 4000),
        ({"chat_id": "not-a-chat"}, "chat_not_found", 4004),
        ({"chat_id": "\u00b2"}, "chat_not_found", 4004),  # a digit to isdigit(), not a number to int()
        ({"chat_id": str(2**31)}, "chat_not_found", 4004),
        ({"chat_id": "00000000-0000-0000-0000-000000000000"}, "chat_not_found", 4004),
        ({"user_id": "someone-else"}, "chat_not_found", 4004),
    ],
)
def test_refused_sockets_get_an_error_event_then_a_close_code(
    daphne: Daphne, tenant: Tenant, params: dict[str, Any], code: str, close_code: int
) -> None:
    chat = tenant_chat(tenant)
    query = {"api_key": tenant.apikey, "user_id": "user123", "chat_id": str(chat.pk), **params}
    ws = open_socket(daphne.ws, "/ws/chat", **query)
    received_close, _, events = ws.closed()
    assert [e["type"] for e in events] == ["error"]
    assert events[0]["code"] == code
    assert received_close == close_code
    assert events[0]["message"]


def test_another_companys_chat_answers_like_an_unknown_one(daphne: Daphne, tenant: Tenant, outsider: Tenant) -> None:
    theirs = tenant_chat(outsider)
    ws = chat_socket(daphne, tenant, theirs)
    close_code, _, events = ws.closed()
    assert (close_code, events[0]["code"]) == (4004, "chat_not_found")


def test_archived_chat_refuses_a_socket(daphne: Daphne, tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    Chat.objects.filter(pk=chat.pk).update(state=ChatState.ARCHIVED)
    close_code, _, events = chat_socket(daphne, tenant, chat).closed()
    assert (close_code, events[0]["code"]) == (4009, "chat_ended")


def test_jwt_in_query_opens_the_persons_own_chat(daphne: Daphne, tenant: Tenant) -> None:
    chat = staff_chat(tenant.user, tenant)
    ws = open_socket(daphne.ws, "/ws/chat", token=tenant.user.token, chat_id=str(chat.pk))
    event = ws.event()
    assert event["type"] == "connection_established"
    assert event["user"]["email"] == tenant.user.user.email
    ws.close()


def test_jwt_in_subprotocol_is_answered_with_bearer_only(daphne: Daphne, tenant: Tenant) -> None:
    chat = staff_chat(tenant.user, tenant)
    ws = open_socket(daphne.ws, "/ws/chat", subprotocols=["bearer", tenant.user.token], chat_id=str(chat.pk))
    assert ws.connection.subprotocol == "bearer"
    assert ws.event()["type"] == "connection_established"
    ws.close()


def test_jwt_of_another_person_cannot_open_someone_elses_chat(daphne: Daphne, tenant: Tenant) -> None:
    chat = staff_chat(tenant.admin, tenant)
    ws = open_socket(daphne.ws, "/ws/chat", token=tenant.user.token, chat_id=str(chat.pk))
    close_code, _, events = ws.closed()
    assert (close_code, events[0]["code"]) == (4004, "chat_not_found")


def test_bad_jwt_is_refused(daphne: Daphne, tenant: Tenant) -> None:
    chat = staff_chat(tenant.user, tenant)
    ws = open_socket(daphne.ws, "/ws/chat", token="not.a.jwt", chat_id=str(chat.pk))
    close_code, _, events = ws.closed()
    assert (close_code, events[0]["code"]) == (4001, "invalid_token")


def test_foreign_origin_is_refused_at_the_handshake(daphne: Daphne, tenant: Tenant) -> None:
    from websockets.sync.client import connect

    chat = tenant_chat(tenant)
    url = f"{daphne.ws}/ws/chat?api_key={tenant.apikey}&user_id=user123&chat_id={chat.pk}"
    with pytest.raises(InvalidStatus):
        connect(url, origin="https://evil.example.com", open_timeout=10, legacy=True)  # type: ignore[arg-type]
    with connect(url, origin=f"http://127.0.0.1:{daphne.port}", open_timeout=10, legacy=True) as ws:  # type: ignore[arg-type]
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_established"


# --- messages that are not messages, and limits -------------------------------------------------------------


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"content": ""}', '{"content": 5}', '{"text": "hi"}'])
def test_bad_client_messages_get_an_error_and_the_socket_stays_usable(
    daphne: Daphne, tenant: Tenant, body: str
) -> None:
    ws = chat_socket(daphne, tenant, tenant_chat(tenant))
    ws.event()
    ws.send(body)
    event = ws.event()
    assert (event["type"], event["code"]) == ("error", "invalid_message")
    ws.send({"type": "ping"})
    assert ws.event()["type"] == "pong"
    ws.close()


def test_eleventh_message_in_a_second_is_rate_limited(daphne: Daphne, tenant: Tenant) -> None:
    ws = chat_socket(daphne, tenant, tenant_chat(tenant))
    ws.event()
    for _ in range(11):
        ws.send("not json")  # cheap messages: each is counted before it is looked at
    codes = [ws.event()["code"] for _ in range(11)]
    assert codes[:10] == ["invalid_message"] * 10
    assert codes[10] == "rate_limited"
    time.sleep(1.1)
    ws.send("still not json")
    assert ws.event()["code"] == "invalid_message"
    ws.close()


def test_connections_over_the_company_limit_are_refused(
    daphne: Daphne, tenant: Tenant, outsider: Tenant, settings: Any
) -> None:
    limit = 50
    chat = tenant_chat(tenant)
    sockets = [chat_socket(daphne, tenant, chat) for _ in range(limit)]
    for ws in sockets:
        assert ws.event()["type"] == "connection_established"
    close_code, _, events = chat_socket(daphne, tenant, chat).closed()
    assert (close_code, events[0]["code"]) == (4029, "too_many_connections")
    assert "50" in events[0]["message"]
    # another company is not affected
    other = chat_socket(daphne, outsider, tenant_chat(outsider))
    assert other.event()["type"] == "connection_established"
    # closing one frees a place
    sockets.pop().close()
    ws = wait_for(lambda: _established(daphne, tenant, chat), timeout=10)
    ws.close()
    for ws in sockets:
        ws.close()
    other.close()


def _established(server: Daphne, tenant: Tenant, chat: Chat) -> Any:
    ws = chat_socket(server, tenant, chat)
    if ws.event()["type"] == "connection_established":
        return ws
    ws.close()
    return None


# --- presence, stop and the events socket -------------------------------------------------------------------


def test_open_socket_makes_the_chat_online_and_closing_it_ends_that(daphne: Daphne, tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    online = tenant.admin.client.get("/api/v1/toolbox/tools/chats/online/get")
    assert assert_ok(online)["chats"] == []
    ws = chat_socket(daphne, tenant, chat)
    ws.event()
    body = assert_ok(tenant.admin.client.get("/api/v1/toolbox/tools/chats/online/get"))
    assert [c["chatid"] for c in body["chats"]] == [str(chat.pk)]
    assert body["chats"][0]["user"]["userid"] == "user123"
    ws.close()
    wait_for(lambda: not assert_ok(tenant.admin.client.get("/api/v1/toolbox/tools/chats/get"))["chats"], timeout=5)


def test_stop_closes_the_socket_with_a_reason_and_archives_the_chat(daphne: Daphne, tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    ws = chat_socket(daphne, tenant, chat)
    ws.event()
    started = time.monotonic()
    assert_ok(tenant.admin.client.put(f"/api/v1/toolbox/tools/chat/stop/{chat.pk}"))
    close_code, _, events = ws.closed(timeout=5)
    assert time.monotonic() - started < 1.0
    assert close_code == 4100
    assert events[-1]["code"] == "chat_stopped"
    assert "stopped" in events[-1]["message"]
    chat.refresh_from_db()
    assert chat.state == ChatState.ARCHIVED
    assert chat.ended_at is not None


def test_events_socket_gets_job_progress_and_chat_states(daphne: Daphne, tenant: Tenant, outsider: Tenant) -> None:
    events_ws = open_socket(daphne.ws, "/ws/events", token=tenant.manager.token)
    assert events_ws.event()["type"] == "connection_established"
    theirs = open_socket(daphne.ws, "/ws/events", subprotocols=["bearer", outsider.admin.token])
    assert theirs.event()["type"] == "connection_established"
    realtime.job_progress_send(
        company_id=tenant.company.pk, job="training", object_id="m1", state="running", progress=40
    )
    event = events_ws.event()
    assert event == {"type": "job_progress", "job": "training", "id": "m1", "state": "running", "progress": 40}
    chat = tenant_chat(tenant)
    ws = chat_socket(daphne, tenant, chat)
    ws.event()
    event = events_ws.event()
    assert event == {"type": "chat_state", "chat_id": str(chat.pk), "state": "online", "live": True}
    assert_ok(tenant.admin.client.put("/api/v1/toolbox/tools/chats/stop"))
    states = [events_ws.event(), events_ws.event()]
    assert {"type": "chat_state", "chat_id": str(chat.pk), "state": "archived", "live": False} in states
    with pytest.raises(TimeoutError):  # the other company heard nothing of it
        theirs.event(timeout=0.5)
    for socket in (events_ws, theirs, ws):
        socket.close()


@pytest.mark.parametrize(
    ("params", "code"),
    [({"api_key": "x"}, "unauthorized"), ({"token": "bad"}, "invalid_token"), ({}, "unauthorized")],
)
def test_events_socket_needs_a_valid_jwt(daphne: Daphne, tenant: Tenant, params: dict[str, str], code: str) -> None:
    if params.get("api_key"):
        params = {"api_key": tenant.apikey}
    close_code, _, events = open_socket(daphne.ws, "/ws/events", **params).closed()
    assert (close_code, events[0]["code"]) == (4001, code)


def test_events_socket_answers_ping_and_refuses_other_messages(daphne: Daphne, tenant: Tenant) -> None:
    ws = open_socket(daphne.ws, "/ws/events", token=tenant.admin.token)
    ws.event()
    ws.send({"type": "ping"})
    assert ws.event()["type"] == "pong"
    ws.send({"content": "hello"})
    assert ws.event()["code"] == "invalid_message"
    ws.close()
