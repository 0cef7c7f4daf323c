"""Reads about chats, always scoped to the caller's company (and, for a person, to their own chats)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from apps.chat.models import Chat, Message, MessageRole, Prompt
from apps.core.exceptions import Conflict, NotFound
from apps.core.ids import is_ascii_digits


def chat_list_visible(*, company: Any, user: Any) -> QuerySet[Chat]:
    """A person's own chats, or every chat of the company for its key pair; newest activity first."""
    chats = Chat.objects.for_company(company)
    if getattr(user, "is_person", False):
        chats = chats.filter(user=user)
    return chats.order_by("-updated_at", "-number")


def chat_visible(*, company: Any, user: Any, chat_id: uuid.UUID, lock: bool = False) -> Chat | None:
    """A chat the caller may write to: a person's own, or any of the company's for its key pair."""
    chats = Chat.objects.for_company(company).filter(pk=chat_id)
    if getattr(user, "is_person", False):
        chats = chats.filter(user=user)
    return (chats.select_for_update(no_key=True) if lock else chats).first()


def _may_write(company: Any, user: Any, company_id: Any, user_id: Any) -> bool:
    """The rule of `chat_visible`, for a row already read."""
    if company_id != company.pk:
        return False
    return not getattr(user, "is_person", False) or user_id == user.pk


@dataclass(frozen=True)
class CompletionSlot:
    """Where a completion will be saved, as checked before the upstream is called."""

    chat_id: uuid.UUID
    message_id: uuid.UUID
    chat_exists: bool
    replaces_reply: bool


def completion_slot(*, company: Any, user: Any, chat_id: uuid.UUID, message_id: uuid.UUID) -> CompletionSlot:
    """Check, with reads only, that a completion may be saved under these ids.

    The chat must be the caller's or new; the message id must be free or name this chat's reply
    (a regeneration). Ids are global keys, so an id taken elsewhere is refused: a chat id as not found
    (as for another person's chat), a message id as a conflict. Nothing of the other row is revealed.
    """
    # One read, so a chat created meanwhile by a concurrent first turn is seen whole or not at all.
    owner = Chat.objects.filter(pk=chat_id).values_list("company_id", "user_id").first()
    exists = owner is not None
    if exists and not _may_write(company, user, *owner):
        raise NotFound("Chat not found.")
    taken = Message.objects.filter(pk=message_id).values_list("chat_id", "role").first()
    if taken is not None and taken != (chat_id, MessageRole.ASSISTANT):
        raise Conflict("This message id is already used; send a new id for each reply.")
    return CompletionSlot(chat_id, message_id, exists, taken is not None)


def prompt_list_visible(*, company: Any, user: Any) -> QuerySet[Prompt]:
    """The company's templates and the caller's own prompts (all of them for the key pair)."""
    prompts = Prompt.objects.for_company(company).select_related("user")
    if getattr(user, "is_person", False):
        prompts = prompts.filter(Q(is_template=True) | Q(user=user))
    return prompts.order_by("number")


# --- the chat dialects ------------------------------------------------------------------------------------

CHAT_NOT_FOUND = "Chat session not found."


def chat_ref_filter(ref: Any) -> Q | None:
    """A chat named by its per-company number (an integer or its digits) or by its UUID; None: malformed."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return Q(number=ref) if 0 < ref < 2**31 else None
    text = str(ref).strip()
    if is_ascii_digits(text):
        return Q(number=int(text)) if 0 < int(text) < 2**31 else None
    try:
        return Q(pk=uuid.UUID(text))
    except ValueError:
        return None


def chat_find(*, company: Any, user: Any, ref: Any, lock: bool = False, message: str = CHAT_NOT_FOUND) -> Chat:
    """A chat the caller may see, by number or UUID; unknown, another person's or company's: NotFound."""
    condition = chat_ref_filter(ref)
    if condition is None:
        raise NotFound(message)
    chats = chat_list_visible(company=company, user=user).filter(condition)
    chat = (
        (chats.select_for_update(no_key=True, of=("self",)) if lock else chats)
        .select_related("company", "end_user")
        .first()
    )
    if chat is None:
        raise NotFound(message)
    return chat


def chat_history(*, company: Any, user: Any, start: Any = None, end: Any = None, model: str = "") -> QuerySet[Chat]:
    """The caller's chats for the history: optional creation-time window and model; newest activity first."""
    chats = chat_list_visible(company=company, user=user)
    if start is not None:
        chats = chats.filter(created_at__gte=start)
    if end is not None:
        chats = chats.filter(created_at__lte=end)
    if model:
        chats = chats.filter(model=model)
    return chats


def chat_messages(*, chat: Chat) -> QuerySet[Message]:
    """A chat's messages in the order they were written."""
    return Message.objects.filter(chat=chat).order_by("created_at", "id")


def end_user_chats(*, company: Any, external_id: str) -> QuerySet[Chat]:
    """A tenant end-user's chats, newest activity first (none when the end-user is unknown)."""
    return (
        Chat.objects.for_company(company)
        .filter(end_user__external_id=external_id)
        .select_related("end_user", "user")
        .order_by("-updated_at", "-number")
    )


def message_find(*, company: Any, user: Any, message_id: Any) -> Message:
    """A message of a chat the caller may see; NotFound otherwise."""
    try:
        parsed = uuid.UUID(str(message_id))
    except ValueError:
        raise NotFound("Message not found.") from None
    message = (
        Message.objects.filter(pk=parsed, chat__in=chat_list_visible(company=company, user=user))
        .select_related("chat")
        .first()
    )
    if message is None:
        raise NotFound("Message not found.")
    return message


def prompt_find(*, company: Any, user: Any, ref: Any) -> Prompt:
    """A prompt the caller may see, by number or UUID; NotFound otherwise."""
    condition = chat_ref_filter(ref)
    prompt = prompt_list_visible(company=company, user=user).filter(condition).first() if condition else None
    if prompt is None:
        raise NotFound("Prompt not found.")
    return prompt


def chat_messages_all() -> QuerySet[Message]:
    """Messages in writing order, for prefetching a page of chats' turns."""
    return Message.objects.order_by("created_at", "id")


def message_attachments(*, message: Message) -> QuerySet[Any]:
    """A message's files, oldest first."""
    return message.attachments.order_by("created_at", "id")
