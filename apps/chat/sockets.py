"""What the chat socket asks of the domain: may this socket open on this chat, and the reply's events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from apps.billing.services.limits import LimitExceeded
from apps.chat import services, turns
from apps.chat.models import Chat, ChatState, EndUser, Message
from apps.chat.selectors import chat_ref_filter
from apps.core.exceptions import ApplicationError, NotFound, PermissionDenied, RateLimited
from apps.models_registry.providers.engines import ProviderError

# Close codes, as `consumers.CloseCode` names them.
BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CHAT_ENDED = 4000, 4001, 4003, 4004, 4009


class SocketRefused(Exception):
    """The socket may not open: an `error` event's code and message, and the close code."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


@dataclass(frozen=True)
class SocketTarget:
    """Who may open the socket and on which chat, found without writing anything (`chat` None: a new one)."""

    company: Any
    chat_id: uuid.UUID  # the chat's id, or the id the new chat will get
    chat: Chat | None
    user: dict[str, Any]
    principal: Any
    end_user_ref: str | None
    params: dict[str, str]


@dataclass(frozen=True)
class OpenedSocket:
    chat: Chat
    user: dict[str, Any]
    user_created: bool
    end_user: EndUser | None = None


def _chat_lookup(chats: Any, raw_chat_id: str) -> Chat | None:
    """A chat by its UUID or its per-company number."""
    condition = chat_ref_filter(raw_chat_id)
    return chats.filter(condition).first() if condition is not None else None


def _refused(exc: ApplicationError) -> SocketRefused:
    if isinstance(exc, NotFound):
        return SocketRefused("not_found", exc.message, NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return SocketRefused("forbidden", exc.message, FORBIDDEN)
    return SocketRefused("invalid_request", exc.message, BAD_REQUEST)


def _new_chat(target: SocketTarget) -> tuple[Chat, bool]:
    """A chat opened by the socket itself (no chat_id): for the end-user, or for the person."""
    company, params = target.company, target.params
    model, actorid = params.get("model") or None, params.get("actor_id") or None
    if target.end_user_ref is not None:
        return services.tenant_chat_create(
            company=company, external_id=target.end_user_ref, model=model, actorid=actorid, chat_id=target.chat_id
        )
    person = target.principal if getattr(target.principal, "is_person", False) else None
    chat = services.dialect_chat_create(
        company=company, user=person, model=model, actorid=actorid, chat_id=target.chat_id
    )
    return chat, False


def chat_socket_target(*, scope: dict[str, Any], params: dict[str, str]) -> SocketTarget:
    """Check a `/ws/chat` socket's credentials and chat, writing nothing; SocketRefused says why it may not open.

    With the API key the chat must be the end-user's (`user_id`); with a JWT, the person's own (any of the
    company's for a company token). Without `chat_id` the target is a new chat (`model`, `actor_id` optional)
    that `chat_socket_open` creates once the socket holds its place.
    """
    if scope.get("auth_error"):
        code, message = scope["auth_error"]
        raise SocketRefused(code, message, UNAUTHORIZED)
    principal, company = scope.get("principal"), scope.get("company")
    if principal is None:
        raise SocketRefused(
            "unauthorized", "Missing credentials: api_key and user_id, or a Bearer token.", UNAUTHORIZED
        )
    by_key = scope.get("auth_method") == "api_key"
    end_user_ref = (scope.get("end_user_ref") or "") if by_key else None
    if by_key and not end_user_ref:
        raise SocketRefused("missing_user_id", "Missing user_id: the end-user this socket speaks for.", BAD_REQUEST)
    if by_key:
        user: dict[str, Any] = {"user_id": end_user_ref}
    else:
        user = {"user_id": str(principal.pk) if principal.pk else "", "email": principal.email}
    raw_chat_id = params.get("chat_id", "").strip()
    if not raw_chat_id:
        return SocketTarget(company, uuid.uuid4(), None, user, principal, end_user_ref, params)
    chats = Chat.objects.for_company(company).select_related("user", "end_user")
    if by_key:
        chats = chats.filter(end_user__external_id=end_user_ref)
    elif getattr(principal, "is_person", False):
        chats = chats.filter(user=principal)
    chat = _chat_lookup(chats, raw_chat_id)
    if chat is None:
        raise SocketRefused("chat_not_found", "Chat not found.", NOT_FOUND)
    if chat.state == ChatState.ARCHIVED:
        raise SocketRefused("chat_ended", "This chat has ended; start a new one.", CHAT_ENDED)
    return SocketTarget(company, chat.pk, chat, user, principal, end_user_ref, params)


def chat_socket_open(*, target: SocketTarget) -> OpenedSocket:
    """The socket's chat: the one found, or a new one created now (SocketRefused when its options are bad)."""
    if target.chat is not None:
        return OpenedSocket(chat=target.chat, user=target.user, user_created=False, end_user=target.chat.end_user)
    try:
        chat, created = _new_chat(target)
    except ApplicationError as exc:
        raise _refused(exc) from exc
    return OpenedSocket(chat=chat, user=target.user, user_created=created, end_user=chat.end_user)


def error_code(exc: ApplicationError) -> str:
    """The `error` event's code for a failure of the reply service."""
    if isinstance(exc, ProviderError):
        return "provider_error"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, LimitExceeded):
        return "limit_exceeded"
    if isinstance(exc, NotFound):
        return "chat_not_found"
    if isinstance(exc, PermissionDenied):
        return "forbidden"
    return "invalid_message"


def message_fields(message: Message) -> dict[str, Any]:
    """A stored message as the socket's events show it (the same row the REST dialects list)."""
    return {
        "id": str(message.pk),
        "chat_id": str(message.chat_id),
        "role": message.role,
        "content": message.content,
        "model": message.model,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
    }


async def chat_reply_events(
    *, chat: Chat, user: Any, end_user: EndUser | None, content: str
) -> AsyncGenerator[dict[str, Any], None]:
    """The socket events of one turn, as the one reply service (`turns.chat_turn_stream`) produces them."""
    turn = turns.chat_turn_stream(chat=chat, content=content, user=user, end_user=end_user, source="websocket")
    async with aclosing(turn) as events:  # type: ignore[type-var]  # typed as an iterator, made as a generator
        async for event in events:
            if isinstance(event, turns.Token):
                yield {"type": "message_stream_token", "token": event.text}
            elif isinstance(event, turns.UserMessageStored):
                yield {"type": "message_received", "message": message_fields(event.message)}
            elif isinstance(event, turns.StreamStarted):
                yield {"type": "message_stream_started", "message_id": str(event.message_id)}
            elif isinstance(event, turns.StreamEnded):
                yield {"type": "message_stream_ended", "message": message_fields(event.message), "usage": event.usage}
