"""Reads about chats, always scoped to the caller's company (and, for a person, to their own chats)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from apps.chat.models import Chat, Message, MessageRole, Prompt
from apps.core.exceptions import Conflict, NotFound


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
