"""Two daphne processes on channels-redis: a stop through one closes a socket held by the other; presence is shared."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from apps.chat import services
from apps.chat.models import ChatState
from apps.chat.tests.daphne import Daphne, open_socket
from apps.core.testing import Tenant, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def call(server: Daphne, method: str, path: str, member: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {member.token}"}
    request = urllib.request.Request(f"{server.http}{path}", method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test server
        return json.loads(response.read())


def test_stop_through_one_server_closes_a_socket_held_by_the_other(
    daphne_pair: tuple[Daphne, Daphne], tenant: Tenant
) -> None:
    first, second = daphne_pair
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123")
    other, _ = services.tenant_chat_create(company=tenant.company, external_id="user456")
    ws = open_socket(second.ws, "/ws/chat", api_key=tenant.apikey, user_id="user123", chat_id=str(chat.pk))
    ws_other = open_socket(first.ws, "/ws/chat", api_key=tenant.apikey, user_id="user456", chat_id=str(other.pk))
    assert ws.event()["type"] == ws_other.event()["type"] == "connection_established"

    # presence across both: each server lists both chats
    for server in (first, second):
        online = call(server, "GET", "/api/v1/toolbox/tools/chats/online/get", tenant.admin)
        assert {c["chatid"] for c in online["chats"]} == {str(chat.pk), str(other.pk)}

    started = time.monotonic()
    assert call(first, "PUT", f"/api/v1/toolbox/tools/chat/stop/{chat.pk}", tenant.admin)["success"] is True
    close_code, _, events = ws.closed(timeout=5)
    elapsed = time.monotonic() - started
    assert close_code == 4100, events
    assert elapsed < 1.0, elapsed
    chat.refresh_from_db()
    assert chat.state == ChatState.ARCHIVED

    # the other chat's socket (on the first server) is untouched, and the lists agree on both servers
    ws_other.send({"type": "ping"})
    assert ws_other.event()["type"] == "pong"
    for server in (first, second):

        def listed(server: Daphne = server) -> bool:
            chats = call(server, "GET", "/api/v1/toolbox/tools/chats/get", tenant.admin)["chats"]
            return [c["chatid"] for c in chats] == [str(other.pk)]

        online = wait_for(listed, timeout=5)
        assert online
        archived = call(server, "GET", "/api/v1/toolbox/tools/chats/archived/get", tenant.admin)
        assert [c["chatid"] for c in archived["chats"]] == [str(chat.pk)]

    # chats/stop through the second server closes the socket the first one holds
    call(second, "PUT", "/api/v1/toolbox/tools/chats/stop", tenant.admin)
    close_code, _, _ = ws_other.closed(timeout=5)
    assert close_code == 4100


def test_connection_limit_is_counted_across_both_servers(
    daphne_pair: tuple[Daphne, Daphne], tenant: Tenant, settings: Any
) -> None:
    first, second = daphne_pair
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123")
    params = {"api_key": tenant.apikey, "user_id": "user123", "chat_id": str(chat.pk)}
    sockets = [open_socket((first if i % 2 else second).ws, "/ws/chat", **params) for i in range(50)]
    for ws in sockets:
        assert ws.event()["type"] == "connection_established"
    for server in (first, second):
        close_code, _, events = open_socket(server.ws, "/ws/chat", **params).closed()
        assert (close_code, events[0]["code"]) == (4029, "too_many_connections")
    for ws in sockets:
        ws.close()
