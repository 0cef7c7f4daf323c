"""Writes about chats: open or create them, add turns, save replies, record usage."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Company
from apps.chat.models import Chat, ChatState, CompletionUsage, Message, MessageRole
from apps.chat.tokens import text_of
from apps.core.exceptions import Conflict, NotFound

TITLE_LENGTH = 80


def _title_from(messages: list[dict[str, Any]]) -> str:
    first = next((text_of(m.get("content")).strip() for m in messages if m.get("role") == "user"), "")
    line = " ".join(first.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


def chat_create(
    *,
    company: Any,
    user: Any,
    chat_id: uuid.UUID | None = None,
    model: str = "",
    title: str = "",
    session_ref: str = "",
    user_ref: str = "",
    options: dict[str, Any] | None = None,
) -> Chat:
    """A new chat with the company's next number (the id is the client's, when it gives one)."""
    with transaction.atomic(savepoint=False):
        # The company row's lock orders concurrent creations, so each reads the latest number.
        Company.objects.select_for_update().filter(pk=company.pk).values_list("pk", flat=True).get()
        number = (Chat.objects.for_company(company).aggregate(top=Max("number"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                return Chat.objects.create(
                    id=chat_id or uuid.uuid4(),
                    company=company,
                    number=number,
                    user=user if getattr(user, "is_person", False) else None,
                    user_ref=user_ref,
                    session_ref=session_ref,
                    model=model,
                    title=title,
                    options=options or {},
                )
        except IntegrityError:  # the id is another company's (or another person's) chat
            raise NotFound("Chat not found.") from None


def _visible_chat(company: Any, user: Any, chat_id: uuid.UUID) -> Chat | None:
    """A person reaches their own chats; the company's key pair reaches them all."""
    chats = Chat.objects.for_company(company).filter(pk=chat_id)
    if getattr(user, "is_person", False):
        chats = chats.filter(user=user)
    return chats.select_for_update().first()


def _new_turns(messages: list[dict[str, Any]], created: bool) -> list[dict[str, Any]]:
    """The turns to store: all of them for a new chat, else those after the last assistant turn."""
    if created:
        return messages
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == MessageRole.ASSISTANT), default=-1)
    return messages[last_assistant + 1 :]


def completion_chat_open(
    *,
    company: Any,
    user: Any,
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    model: str,
    session_ref: str,
    messages: list[dict[str, Any]],
    options: dict[str, Any],
) -> tuple[Chat, bool]:
    """The chat a completion belongs to (created on first use) with the request's new turns stored.

    `message_id` names the reply to come: it must be free, or already be a reply in this chat
    (a regeneration, which replaces it); the second value says which.
    """
    with transaction.atomic():
        chat = _visible_chat(company, user, chat_id)
        created = chat is None
        if chat is None:
            chat = chat_create(
                company=company,
                user=user,
                chat_id=chat_id,
                model=model,
                title=_title_from(messages),
                session_ref=session_ref,
                options=options,
            )
        existing = Message.objects.filter(pk=message_id).values_list("chat_id", "role").first()
        if existing is not None and existing != (chat.pk, MessageRole.ASSISTANT):
            raise Conflict("This message id is already used; send a new id for each reply.")
        Message.objects.bulk_create(
            Message(company=company, chat=chat, role=m["role"], content=text_of(m.get("content")))
            for m in _new_turns(messages, created)
        )
        if not created:
            changed = {"model": model, "session_ref": session_ref, "options": options, "state": ChatState.ONLINE}
            for name, value in changed.items():
                setattr(chat, name, value)
            chat.save(update_fields=[*changed, "updated_at"])
    return chat, existing is not None


def completion_reply_save(
    *,
    chat: Chat,
    message_id: uuid.UUID,
    content: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    replaces: bool = True,
) -> None:
    """Store (or replace, on regeneration) the assistant's reply, and mark the chat active."""
    fields = {
        "role": MessageRole.ASSISTANT,
        "content": content,
        "model": model,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
    }
    with transaction.atomic(savepoint=False):
        # `replaces`: the id may already hold this chat's reply (a regeneration); else it is a plain insert.
        updated = replaces and Message.objects.filter(pk=message_id, chat=chat).update(
            **fields, updated_at=timezone.now()
        )
        if not updated:
            Message.objects.create(id=message_id, company_id=chat.company_id, chat=chat, **fields)
        Chat.objects.filter(pk=chat.pk).update(updated_at=timezone.now())


def usage_record(
    *,
    company: Any,
    user: Any,
    chat: Chat | None,
    model: str,
    provider: str,
    source: str,
    stream: bool,
    prompt_tokens: int,
    completion_tokens: int,
    counted_locally: bool,
    latency_ms: int,
    first_token_ms: int | None = None,
    outcome: str = "ok",
    error: str = "",
) -> CompletionUsage:
    """Record one completion for quotas and billing."""
    return CompletionUsage.objects.create(
        company=company,
        user=user if getattr(user, "is_person", False) else None,
        chat=chat,
        model=model,
        provider=provider,
        source=source,
        stream=stream,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        tokens_counted_locally=counted_locally,
        latency_ms=latency_ms,
        first_token_ms=first_token_ms,
        outcome=outcome,
        error=error[:300],
    )


def chat_new(
    *, company: Any, user: Any, title: str = "", model: str = "", messages: list[dict[str, Any]] | None = None
) -> Chat:
    """A new chat, optionally with its first turns."""
    messages = messages or []
    with transaction.atomic():
        chat = chat_create(company=company, user=user, model=model, title=title or _title_from(messages))
        Message.objects.bulk_create(
            Message(company=company, chat=chat, role=m["role"], content=text_of(m.get("content"))) for m in messages
        )
    return chat
