"""The realtime send helper delivers to the company's and the chat's groups, and only to them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from apps.core import realtime


async def _listener(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def _receive(channel: str, timeout: float = 2.0) -> dict:
    return await asyncio.wait_for(get_channel_layer().receive(channel), timeout)


@pytest.mark.asyncio
async def test_job_progress_reaches_the_company_group_only() -> None:
    company, other = uuid.uuid4(), uuid.uuid4()
    mine = await _listener(realtime.company_group(company))
    theirs = await _listener(realtime.company_group(other))

    sent = await sync_to_async(realtime.job_progress_send)(
        company_id=company, job="training", object_id="m1", state="training", progress=40
    )

    assert sent is True
    message = await _receive(mine)
    assert message["type"] == realtime.COMPANY_EVENT
    assert message["event"] == {
        "type": "job_progress",
        "job": "training",
        "id": "m1",
        "state": "training",
        "progress": 40,
    }
    with pytest.raises(asyncio.TimeoutError):
        await _receive(theirs, timeout=0.3)


@pytest.mark.asyncio
async def test_chat_control_reaches_the_chat_group() -> None:
    chat = uuid.uuid4()
    channel = await _listener(realtime.chat_group(chat))

    await sync_to_async(realtime.chat_control_send)(chat_id=chat, action="stop", reason="admin")

    message = await _receive(channel)
    assert message == {"type": realtime.CHAT_CONTROL, "action": "stop", "reason": "admin"}


def test_group_names_are_per_company_and_valid() -> None:
    company = uuid.uuid4()
    assert realtime.company_group(company) == realtime.company_group(str(company))
    assert realtime.company_group(company) != realtime.company_group(uuid.uuid4())
    assert len(realtime.chat_group(uuid.uuid4())) < 100


@pytest.mark.asyncio
async def test_sends_from_sync_code_arrive_in_order_and_keep_their_loop() -> None:
    company = uuid.uuid4()
    channel = await _listener(realtime.company_group(company))

    def send_three() -> list[Any]:
        loops = []
        for step in range(3):
            realtime.job_progress_send(company_id=company, job="run", object_id="r1", state="running", progress=step)
            loops.append(realtime._send_loop._loop)
        return loops

    loops = await sync_to_async(send_three, thread_sensitive=False)()

    assert [(await _receive(channel))["event"]["progress"] for _ in range(3)] == [0, 1, 2]
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return  # in-process queues: sent from the caller's context, no loop of our own
    # A cross-process layer (Redis): one loop, so one set of connections, for every send of the process.
    assert loops[0] is not None and loops[0] is loops[1] is loops[2]
