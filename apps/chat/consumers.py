"""The chat sockets: `/ws/chat` (real-time messaging on one chat) and `/ws/events` (a company's events).

Credentials are resolved by `apps.accounts.websocket.WebSocketAuthMiddleware`. A socket that may not
open is accepted, sent an `error` event, and closed with a close code that says why (`CloseCode`),
so a browser's client learns the reason (a refused handshake only shows code 1006).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from contextlib import aclosing
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.accounts.websocket import query_params
from apps.chat import live, presence, sockets
from apps.core import realtime
from apps.core.exceptions import GENERIC_ERROR, ApplicationError

logger = logging.getLogger(__name__)


def in_redis_thread(func: Any) -> Any:
    """Run a quick blocking presence call (Redis, no database) on a pool thread, not the one database thread."""
    return sync_to_async(func, thread_sensitive=False)


class CloseCode:
    """The close codes of our sockets (4000-4999 are the application's)."""

    BAD_REQUEST = 4000  # a required query parameter is missing
    UNAUTHORIZED = 4001  # no credentials, or a bad API key or token
    FORBIDDEN = 4003  # these credentials may not open this socket
    NOT_FOUND = 4004  # no such chat for this company and user
    CHAT_ENDED = 4009  # the chat is archived
    TOO_MANY_CONNECTIONS = 4029  # the company holds its limit of open chat sockets
    TRY_AGAIN_LATER = 1013  # the server could not join the socket to its chat's group
    STOPPED = 4100  # an administrator stopped the chat


class MessageRate:
    """At most `limit` messages in any one second, for one connection (which lives in one process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= 1.0:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class _Socket(AsyncWebsocketConsumer):
    """What both sockets share: JSON events, refusing with a reason, a ping."""

    async def send_event(self, event_type: str, **fields: Any) -> None:
        await self.send(text_data=json.dumps({"type": event_type, **fields}, default=str))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_event("error", code=code, message=message)

    async def refuse(self, code: str, message: str, close_code: int) -> None:
        """Accept only to say why, then close with `close_code` and the message as the reason."""
        await self.accept(self.scope.get("accept_subprotocol"))
        await self.send_error(code, message)
        await self.close(code=close_code, reason=message[:120])

    def decode(self, text_data: str | None) -> dict[str, Any] | None:
        if text_data is None or len(text_data.encode()) > settings.CHAT_WS_MAX_MESSAGE_BYTES:
            return None
        try:
            body = json.loads(text_data)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


class ChatConsumer(_Socket):
    """`/ws/chat?api_key=…&user_id=…&chat_id=…` (or a JWT): send `{"content": …}`, receive the reply's events."""

    chat: Any = None
    presence_entry: presence.Presence | None = None
    heartbeat: asyncio.Task | None = None
    stream: asyncio.Task | None = None
    busy = False

    async def connect(self) -> None:
        try:
            params = query_params(self.scope)
            target = await database_sync_to_async(sockets.chat_socket_target)(scope=self.scope, params=params)
        except sockets.SocketRefused as refused:
            await self.refuse(refused.code, refused.message, refused.close_code)
            return
        # The socket takes its place (the company's limit, the chat's group) before a new chat is created,
        # so a refused socket leaves no chat or end-user behind.
        entry = presence.socket_presence(company_id=target.company.pk, chat_id=target.chat_id)
        limit = settings.CHAT_WS_MAX_CONNECTIONS_PER_COMPANY
        sockets_on_chat = await in_redis_thread(entry.enter)(limit)
        if not sockets_on_chat:
            message = f"Too many connections: your company already holds {limit} open chat sockets."
            await self.refuse("too_many_connections", message, CloseCode.TOO_MANY_CONNECTIONS)
            return
        group = realtime.chat_group(target.chat_id)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:  # the channel layer is out of reach or out of connections: the client should retry
            logger.warning("Could not join the group of chat %s", target.chat_id, exc_info=True)
            await in_redis_thread(entry.leave)()
            await self.refuse("server_busy", "The server is busy; try again in a moment.", CloseCode.TRY_AGAIN_LATER)
            return
        try:
            opened = await database_sync_to_async(sockets.chat_socket_open)(target=target)
        except sockets.SocketRefused as refused:
            await self._leave_group(group)
            await in_redis_thread(entry.leave)()
            await self.refuse(refused.code, refused.message, refused.close_code)
            return
        self.chat, self.end_user = opened.chat, opened.end_user
        self.presence_entry = entry
        self.rate = MessageRate(settings.CHAT_WS_MESSAGES_PER_SECOND)
        await self.accept(self.scope.get("accept_subprotocol"))
        self.heartbeat = asyncio.create_task(self._keep_present())
        await self.send_event("connection_established", chat_id=str(self.chat.pk), user=opened.user)
        if opened.user_created:
            await self.send_event("user_created", user=opened.user)
        await self._announce_if_changed(live=True, sockets_on_chat=sockets_on_chat)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.chat is None:
            return
        body = self.decode(text_data)
        if body is not None and body.get("type") == "ping" and "content" not in body:
            await self.send_event("pong")
            return
        if not self.rate.allow():
            limit = settings.CHAT_WS_MESSAGES_PER_SECOND
            await self.send_error("rate_limited", f"Too many messages: at most {limit} a second per connection.")
            return
        content = body.get("content") if body is not None else None
        if not isinstance(content, str) or not content.strip():
            await self.send_error("invalid_message", 'Send a JSON object with a non-empty "content" string.')
            return
        if self.busy:
            await self.send_error("stream_in_progress", "Wait for the current answer to end before sending another.")
            return
        self.busy = True
        self.stream = asyncio.create_task(self._reply(content))

    async def _reply(self, content: str) -> None:
        events = sockets.chat_reply_events(
            chat=self.chat, user=self.scope["principal"], end_user=self.end_user, content=content
        )
        failure: tuple[str, str] | None = None
        try:
            # The turn itself keeps the chat live while it streams (its presence is refreshed off the loop).
            async with aclosing(events):
                async for event in events:
                    if event["type"] == "message_stream_ended":
                        self.busy = False  # the client may send its next message as soon as it reads this
                    await self.send(text_data=json.dumps(event, default=str))
        except ApplicationError as exc:
            failure = (sockets.error_code(exc), exc.message)
        except Exception:
            logger.exception("The reply of chat %s failed", self.chat.pk)
            failure = ("internal_error", GENERIC_ERROR)
        finally:
            # Once this reply has ended the client may already have started the next one: only the newest
            # reply's task frees the socket, or a third message would be taken while the second streams.
            if self.stream is asyncio.current_task():
                self.busy = False
        if failure is not None:
            await self.send_error(*failure)

    async def chat_control(self, message: dict[str, Any]) -> None:
        """A message for this chat's sockets from any process: `stop` cancels the stream and closes."""
        if message.get("action") != live.STOP:
            return
        await self._cancel_stream()
        reason = "The chat was stopped by an administrator."
        await self.send_error("chat_stopped", reason)
        await self.close(code=CloseCode.STOPPED, reason=reason)

    async def disconnect(self, code: int) -> None:
        if self.chat is None or self.presence_entry is None:
            return
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        await self._cancel_stream()
        await self._leave_group(realtime.chat_group(self.chat.pk))
        sockets_on_chat = await in_redis_thread(self.presence_entry.leave)()
        self.presence_entry = None
        await self._announce_if_changed(live=False, sockets_on_chat=sockets_on_chat)

    async def _leave_group(self, group: str) -> None:
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:  # the group's entry expires on its own (channels-redis group_expiry)
            logger.warning("Could not leave the group %s", group, exc_info=True)

    async def _cancel_stream(self) -> None:
        stream = self.stream
        if stream is not None and not stream.done():
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await stream

    async def _keep_present(self) -> None:
        while self.presence_entry is not None:
            await asyncio.sleep(max(1, settings.CHAT_PRESENCE_TTL_SECONDS // 3))
            if self.presence_entry is not None:
                await in_redis_thread(self.presence_entry.refresh)()

    async def _announce_if_changed(self, *, live: bool, sockets_on_chat: int) -> None:
        """Tell the company's events sockets when the chat's first socket opens or its last one closes.

        `sockets_on_chat` is the count the presence write itself returned: of two sockets opening at once,
        exactly one sees 1.
        """
        if sockets_on_chat != (1 if live else 0):
            return
        event = {"type": "chat_state", "chat_id": str(self.chat.pk), "state": self.chat.state, "live": live}
        await realtime.group_send_async(
            realtime.company_group(self.chat.company_id), {"type": realtime.COMPANY_EVENT, "event": event}
        )


class EventsConsumer(_Socket):
    """`/ws/events?token=<JWT>` (or the `bearer` subprotocol): a company's job progress and chat states."""

    group: str | None = None

    async def connect(self) -> None:
        if self.scope.get("auth_error"):
            _, message = self.scope["auth_error"]
            await self.refuse("invalid_token", message, CloseCode.UNAUTHORIZED)
            return
        if self.scope.get("auth_method") != "token":
            message = "The events socket needs a Bearer token: ?token=<JWT> or the subprotocols bearer, <JWT>."
            await self.refuse("unauthorized", message, CloseCode.UNAUTHORIZED)
            return
        self.group = realtime.company_group(self.scope["company"].pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(self.scope.get("accept_subprotocol"))
        await self.send_event("connection_established", groupid=str(self.scope["company"].pk))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is None:
            return
        body = self.decode(text_data)
        if body is not None and body.get("type") == "ping":
            await self.send_event("pong")
            return
        await self.send_error("invalid_message", 'This socket only sends events; it takes {"type": "ping"}.')

    async def company_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message["event"], default=str))

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
