"""Push events to sockets through the channel layer: a company's events socket and a chat's live sockets.

Groups are per company and per chat (never one global group). A send never fails its caller: a
progress event is news, not state; the state itself is in the database and readable through the API.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# The consumer method that receives a company event: `company_event(self, message)`; the event is
# in message["event"] and is sent to the socket as it is.
COMPANY_EVENT = "company.event"
# The consumer method that receives a chat's control message: `chat_control(self, message)`.
CHAT_CONTROL = "chat.control"
# A send to the channel layer is given up after this long, and at most this many wait to be sent (a progress
# event is news, not state).
SEND_TIMEOUT_SECONDS = 5.0
SEND_QUEUE_MAX = 10_000


def _hex(value: Any) -> str:
    return getattr(value, "hex", None) or str(value).replace("-", "")


def company_group(company_id: Any) -> str:
    """The channel-layer group of a company's staff event sockets."""
    return f"company.{_hex(company_id)}.events"


def chat_group(chat_id: Any) -> str:
    """The channel-layer group of the live sockets of one chat."""
    return f"chat.{_hex(chat_id)}"


async def group_send_async(group: str, message: dict[str, Any]) -> bool:
    """Send to a group; False (and a log line) when the channel layer cannot take it."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(group, message)
    except Exception:
        logger.warning("Could not send %s to %s", message.get("type"), group, exc_info=True)
        return False
    return True


class _SendLoop:
    """One event loop per process, in a thread, that sends to a cross-process channel layer (Redis) in order.

    `async_to_sync` runs each call on a new event loop, and a Redis channel layer opens its connections
    per loop: a send would connect, send and disconnect each time (several milliseconds, paid for every
    progress event of a job). This loop keeps the layer's connections, and the caller does not wait:
    its messages are queued and sent one after another, in the order they were given.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._pid = 0

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, dict[str, Any]]]]:
        with self._lock:
            # A forked worker process inherits the object but not the thread: it starts its own.
            if self._loop is None or self._queue is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
                threading.Thread(target=loop.run_until_complete, args=(self._drain(queue),), daemon=True).start()
                self._loop, self._queue, self._pid = loop, queue, os.getpid()
            return self._loop, self._queue

    @staticmethod
    async def _drain(queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        while True:
            group, message = await queue.get()
            try:
                await asyncio.wait_for(group_send_async(group, message), SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning(
                    "Sending %s to %s took over %s s; given up", message.get("type"), group, SEND_TIMEOUT_SECONDS
                )
            finally:
                queue.task_done()

    @staticmethod
    def _put(queue: asyncio.Queue[tuple[str, dict[str, Any]]], item: tuple[str, dict[str, Any]]) -> None:
        if queue.qsize() >= SEND_QUEUE_MAX:
            logger.warning(
                "The send queue is full (%s messages); %s to %s dropped", SEND_QUEUE_MAX, item[1].get("type"), item[0]
            )
            return
        queue.put_nowait(item)

    def send(self, group: str, message: dict[str, Any]) -> bool:
        loop, queue = self._started()
        loop.call_soon_threadsafe(self._put, queue, (group, message))
        return True

    def flush(self, timeout: float = SEND_TIMEOUT_SECONDS) -> bool:
        """Wait until every queued message has been sent; False when that takes longer than `timeout`."""
        if self._loop is None or self._queue is None or self._pid != os.getpid():
            return True
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        try:
            future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return False
        return True


_send_loop = _SendLoop()
atexit.register(_send_loop.flush, 2.0)  # what a finishing process queued still goes out


def group_send(group: str, message: dict[str, Any]) -> bool:
    """Send to a group from sync code (views, services, Celery tasks); with Redis, queued and sent in order."""
    layer = get_channel_layer()
    if layer is None:
        return False
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues live in this process: send from the caller's context, as consumers expect.
        return async_to_sync(group_send_async)(group, message)
    return _send_loop.send(group, message)


def company_event_send(*, company_id: Any, event: dict[str, Any]) -> bool:
    """Push one event (a JSON object with a `type`) to every events socket of the company."""
    return group_send(company_group(company_id), {"type": COMPANY_EVENT, "event": event})


def job_progress_send(
    *,
    company_id: Any,
    job: str,
    object_id: Any,
    state: str,
    progress: int | None = None,
    error: str = "",
    **extra: Any,
) -> bool:
    """Push a job's state and progress: `{"type": "job_progress", "job": "training", "id": ..., ...}`."""
    event: dict[str, Any] = {"type": "job_progress", "job": job, "id": str(object_id), "state": state}
    if progress is not None:
        event["progress"] = progress
    if error:
        event["error"] = error
    event.update(extra)
    return company_event_send(company_id=company_id, event=event)


def chat_control_send(*, chat_id: Any, action: str, **extra: Any) -> bool:
    """Tell every live socket of a chat to do something (`stop`: close and cancel any stream)."""
    return group_send(chat_group(chat_id), {"type": CHAT_CONTROL, "action": action, **extra})
