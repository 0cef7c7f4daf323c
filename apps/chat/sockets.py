"""What the chat socket asks of the domain: may this socket open on this chat, and the reply's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from apps.chat.models import Chat, ChatState
from apps.core.exceptions import ApplicationError, NotFound, RateLimited
from apps.core.ids import parse_uuid

# Close codes, as `consumers.CloseCode` names them.
BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, CHAT_ENDED = 4000, 4001, 4004, 4009


class SocketRefused(Exception):
    """The socket may not open: an `error` event's code and message, and the close code."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


@dataclass(frozen=True)
class OpenedSocket:
    chat: Chat
    user: dict[str, Any]
    user_created: bool
    end_user: Any = None


def _chat_lookup(chats: Any, raw_chat_id: str) -> Chat | None:
    """A chat by its UUID or its per-company number."""
    if raw_chat_id.isdigit():
        return chats.filter(number=int(raw_chat_id)).first()
    chat_id = parse_uuid(raw_chat_id)
    return chats.filter(pk=chat_id).first() if chat_id else None


def chat_socket_open(scope: dict[str, Any]) -> OpenedSocket:
    """Check a `/ws/chat` socket's credentials and chat; SocketRefused says why it may not open."""
    from urllib.parse import parse_qs

    if scope.get("auth_error"):
        code, message = scope["auth_error"]
        raise SocketRefused(code, message, UNAUTHORIZED)
    principal, company = scope.get("principal"), scope.get("company")
    if principal is None:
        raise SocketRefused(
            "unauthorized", "Missing credentials: api_key and user_id, or a Bearer token.", UNAUTHORIZED
        )
    params = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items() if v}
    raw_chat_id = params.get("chat_id", "").strip()
    if not raw_chat_id:
        raise SocketRefused("missing_chat_id", "Missing chat_id: create a chat over REST first.", BAD_REQUEST)
    chats = Chat.objects.for_company(company).select_related("user")
    if scope.get("auth_method") == "api_key":
        user_ref = scope.get("end_user_ref") or ""
        if not user_ref:
            raise SocketRefused("missing_user_id", "Missing user_id: the end-user this socket speaks for.", BAD_REQUEST)
        chat = _chat_lookup(chats.filter(user_ref=user_ref), raw_chat_id)
        user = {"user_id": user_ref}
    else:
        if getattr(principal, "is_person", False):
            chats = chats.filter(user=principal)
        chat = _chat_lookup(chats, raw_chat_id)
        user = {"user_id": str(principal.pk) if principal.pk else "", "email": principal.email}
    if chat is None:
        raise SocketRefused("chat_not_found", "Chat not found.", NOT_FOUND)
    if chat.state == ChatState.ARCHIVED:
        raise SocketRefused("chat_ended", "This chat has ended; start a new one.", CHAT_ENDED)
    return OpenedSocket(chat=chat, user=user, user_created=False)


def error_code(exc: ApplicationError) -> str:
    """The `error` event's code for a failure of the reply service."""
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, NotFound):
        return "chat_not_found"
    if exc.status_code >= 500:
        return "provider_error"
    return "invalid_message" if exc.status_code < 500 else "provider_error"


async def chat_reply_events(*, chat: Chat, user: Any, content: str) -> AsyncIterator[dict[str, Any]]:
    """The socket events of one turn, as the one reply service produces them."""
    raise NotImplementedError
    yield {}
