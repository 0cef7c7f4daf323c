"""The chat socket's consumer in this process (Channels' communicator): orderings a remote client cannot force.

A client on the network cannot choose how its messages interleave with the consumer's own tasks; here
the consumer runs on the test's event loop, so a message sent the moment an event arrives lands while
the consumer is still finishing what produced that event.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.chat import services
from apps.chat.models import Chat, EndUser, Message
from apps.chat.tests.factories import make_provider
from apps.core import realtime
from apps.core.testing import Tenant
from apps.models_registry.providers.engines import close_sessions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(tenant: Tenant, upstream: Any) -> Any:
    return make_provider(tenant.company, upstream.url)


def run(coro: Any) -> Any:
    """Run a coroutine on a fresh loop, closing the pooled upstream session bound to it."""

    async def main() -> Any:
        try:
            return await coro
        finally:
            await close_sessions()

    return asyncio.run(main())


def socket(tenant: Tenant, **params: str) -> WebsocketCommunicator:
    from config.asgi import application

    query = "&".join(f"{name}={value}" for name, value in {"api_key": tenant.apikey, **params}.items())
    return WebsocketCommunicator(application, f"/ws/chat?{query}")


async def until(ws: WebsocketCommunicator, event_type: str, timeout: float = 10) -> list[dict[str, Any]]:
    """The events up to and including the first of `event_type`."""
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != event_type:
        events.append(await ws.receive_json_from(timeout=timeout))
    return events


def test_a_message_sent_as_a_reply_ends_keeps_the_socket_busy_until_its_own_reply_ends(
    tenant: Tenant, provider: Any, upstream: Any
) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123", model="acme.gpt-test")

    async def scenario() -> list[dict[str, Any]]:
        ws = socket(tenant, user_id="user123", chat_id=str(chat.pk))
        assert (await ws.connect(timeout=10))[0]
        await until(ws, "connection_established")
        await ws.send_json_to({"content": "first"})
        await until(ws, "message_stream_ended")
        upstream.chunk_delay = 0.4  # the second reply takes over a second
        await ws.send_json_to({"content": "second"})  # while the first reply's task is still winding down
        events = await until(ws, "message_received")
        await ws.send_json_to({"content": "third"})  # the second reply is streaming
        events += await until(ws, "message_stream_ended")
        await ws.disconnect(timeout=10)
        return events

    events = run(scenario())
    errors = [e["code"] for e in events if e["type"] == "error"]
    assert errors == ["stream_in_progress"]
    assert [e["message"]["content"] for e in events if e["type"] == "message_received"] == ["second"]
    users = Message.objects.filter(chat=chat, role="user").order_by("created_at").values_list("content", flat=True)
    assert list(users) == ["first", "second"]


def test_two_sockets_opening_and_closing_at_once_announce_the_chat_once_each_way(tenant: Tenant) -> None:
    chat, _ = services.tenant_chat_create(company=tenant.company, external_id="user123")

    async def announced(layer: Any, listener: str) -> list[bool]:
        states: list[bool] = []
        with contextlib.suppress(TimeoutError):
            while True:
                event = (await asyncio.wait_for(layer.receive(listener), timeout=1))["event"]
                if event["type"] == "chat_state" and event["chat_id"] == str(chat.pk):
                    states.append(event["live"])
        return states

    async def scenario() -> tuple[list[bool], list[bool]]:
        layer = get_channel_layer()
        listener = await layer.new_channel()
        await layer.group_add(realtime.company_group(tenant.company.pk), listener)
        sockets = [socket(tenant, user_id="user123", chat_id=str(chat.pk)) for _ in range(2)]
        assert all(accepted for accepted, _ in await asyncio.gather(*(ws.connect(timeout=10) for ws in sockets)))
        for ws in sockets:
            await until(ws, "connection_established")
        opened = await announced(layer, listener)
        # The communicator cancels a consumer still running after `timeout` (1 s by default), which a server
        # never does: give the disconnect handlers (Redis writes, the announcement) the time a server would.
        await asyncio.gather(*(ws.disconnect(timeout=10) for ws in sockets))
        closed = await announced(layer, listener)
        await layer.group_discard(realtime.company_group(tenant.company.pk), listener)
        return opened, closed

    assert run(scenario()) == ([True], [False])


def test_a_socket_refused_at_the_connection_limit_opens_no_chat_and_no_end_user(tenant: Tenant, settings: Any) -> None:
    settings.CHAT_WS_MAX_CONNECTIONS_PER_COMPANY = 1
    held = services.tenant_chat_create(company=tenant.company, external_id="holder")[0]
    chats_before = set(Chat.objects.values_list("pk", flat=True))

    async def scenario() -> list[tuple[dict[str, Any], int]]:
        holder = socket(tenant, user_id="holder", chat_id=str(held.pk))
        assert (await holder.connect(timeout=10))[0]
        await until(holder, "connection_established")
        refusals = []
        for _ in range(3):  # a client reconnecting again and again
            ws = socket(tenant, user_id="newcomer")
            assert (await ws.connect(timeout=10))[0]
            error = await ws.receive_json_from(timeout=10)
            refusals.append((error, (await ws.receive_output(timeout=10))["code"]))
        await holder.disconnect(timeout=10)
        return refusals

    refusals = run(scenario())
    assert [(error["code"], close_code) for error, close_code in refusals] == [("too_many_connections", 4029)] * 3
    assert set(Chat.objects.values_list("pk", flat=True)) == chats_before
    assert not EndUser.objects.filter(company=tenant.company, external_id="newcomer").exists()
