"""The admin's view of live chats: which are online, which archived, and stopping them.

Online means the chat is not archived and has an open socket or a reply streaming in some server
process (see `presence`). Stopping archives the chat, sets `ended_at`, and tells every live socket
of it, in any process, to cancel its stream and close (`realtime.chat_control_send`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.chat import presence
from apps.chat.models import Chat, ChatState
from apps.chat.selectors import chat_ref_filter
from apps.core import realtime
from apps.core.exceptions import NotFound

STOP = "stop"


def chats_online(*, company: Any) -> QuerySet[Chat]:
    """The company's chats that are live now, in any server process; newest activity first."""
    live = presence.live_chat_ids(company_id=company.pk)
    return (
        Chat.objects.for_company(company)
        .filter(pk__in=live)
        .exclude(state=ChatState.ARCHIVED)
        .select_related("user")
        .order_by("-updated_at", "-number")
    )


def chats_archived(*, company: Any) -> QuerySet[Chat]:
    """The company's ended chats, most recently ended first."""
    return (
        Chat.objects.for_company(company)
        .filter(state=ChatState.ARCHIVED)
        .select_related("user")
        .order_by("-ended_at", "-updated_at", "-number")
    )


def chat_state_event(chat: Chat, *, live: bool) -> dict[str, Any]:
    """The `chat_state` event the company's events socket receives when a chat goes live, idle or ends."""
    return {"type": "chat_state", "chat_id": str(chat.pk), "state": chat.state, "live": live}


def _announce_stopped(chats: list[Chat]) -> None:
    for chat in chats:
        realtime.chat_control_send(chat_id=chat.pk, action=STOP)
        realtime.company_event_send(company_id=chat.company_id, event=chat_state_event(chat, live=False))


def _archive(chats: QuerySet[Chat]) -> list[Chat]:
    now = timezone.now()
    stopped = list(chats.select_for_update())
    for chat in stopped:
        chat.state = ChatState.ARCHIVED
        chat.ended_at = chat.ended_at or now
    Chat.objects.bulk_update(stopped, ["state", "ended_at"])
    # After commit, so a socket that reconnects at once sees the chat archived.
    transaction.on_commit(lambda: _announce_stopped(stopped))
    return stopped


@transaction.atomic
def chat_stop(*, company: Any, chat_ref: Any) -> Chat:
    """End one chat (by its UUID or its per-company number): archive it and close its live sockets.

    A stopped chat may be stopped again (its sockets are told again; `ended_at` is kept).
    """
    condition = chat_ref_filter(chat_ref)
    stopped = _archive(Chat.objects.for_company(company).filter(condition)) if condition is not None else []
    if not stopped:
        raise NotFound("Chat not found.")
    return stopped[0]


@transaction.atomic
def chats_stop_all(*, company: Any) -> int:
    """End every chat of the company that is not archived yet, and any live socket; how many were ended."""
    live = presence.live_chat_ids(company_id=company.pk)
    online = Chat.objects.for_company(company).exclude(state=ChatState.ARCHIVED)
    stopped = _archive(online)
    # Sockets of chats already archived (a stop that raced a reconnect) are closed too.
    stragglers = set(live) - {chat.pk for chat in stopped}
    if stragglers:
        transaction.on_commit(
            lambda: [realtime.chat_control_send(chat_id=chat_id, action=STOP) for chat_id in stragglers]
        )
    return len(stopped)
