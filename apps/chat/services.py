"""Writes about chats: open or create them, add turns, save replies, record usage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Company
from apps.chat.models import Chat, ChatState, CompletionUsage, Message, MessageRole, Prompt
from apps.chat.selectors import CompletionSlot, chat_visible
from apps.chat.tokens import text_of
from apps.core.exceptions import Conflict, NotFound

TITLE_LENGTH = 80


def _title_from(messages: list[dict[str, Any]]) -> str:
    first = next((text_of(m.get("content")).strip() for m in messages if m.get("role") == "user"), "")
    line = " ".join(first.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


def _next_number(model: type[Chat] | type[Prompt], company: Any) -> int:
    """The company's next number for chats or prompts; call inside a transaction.

    The company row's lock orders concurrent creations, so each reads the latest number. It is a
    no-key lock: rows pointing at the company (messages, usage) can still be inserted meanwhile, as
    their foreign-key checks need only a key-share lock; a full FOR UPDATE would deadlock with them.
    """
    Company.objects.select_for_update(no_key=True).filter(pk=company.pk).values_list("pk", flat=True).get()
    return (model.objects.for_company(company).aggregate(top=Max("number"))["top"] or 0) + 1


def prompt_create(
    *,
    company: Any,
    user: Any,
    title: str,
    content: str,
    scenario: str = "",
    description: str = "",
    metadata: dict[str, Any] | None = None,
    is_template: bool = False,
) -> Prompt:
    """A new prompt with the company's next prompt number."""
    with transaction.atomic():
        return Prompt.objects.create(
            company=company,
            number=_next_number(Prompt, company),
            user=user if getattr(user, "is_person", False) else None,
            title=title,
            content=content,
            scenario=scenario,
            description=description,
            metadata=metadata or {},
            is_template=is_template,
        )


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
    fields = {"model": model, "title": title, "session_ref": session_ref, "user_ref": user_ref, "options": options}
    chat = _chat_insert(company, user, chat_id or uuid.uuid4(), fields)
    if chat is None:  # the id is another company's (or another person's) chat
        raise NotFound("Chat not found.")
    return chat


def _chat_insert(company: Any, user: Any, chat_id: uuid.UUID, fields: dict[str, Any]) -> Chat | None:
    """Insert a numbered chat; None when the id is taken. No exception leaves the transaction block."""
    with transaction.atomic(savepoint=False):
        number = _next_number(Chat, company)
        try:
            with transaction.atomic():
                return Chat.objects.create(
                    id=chat_id,
                    company=company,
                    number=number,
                    user=user if getattr(user, "is_person", False) else None,
                    **{**fields, "options": fields.get("options") or {}},
                )
        except IntegrityError:
            return None


def _new_turns(messages: list[dict[str, Any]], created: bool) -> list[dict[str, Any]]:
    """The turns to store: all of them for a new chat, else those after the last assistant turn."""
    if created:
        return messages
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == MessageRole.ASSISTANT), default=-1)
    return messages[last_assistant + 1 :]


def _completion_chat(
    company: Any, user: Any, slot: CompletionSlot, model: str, session_ref: str, messages: list[dict[str, Any]],
    options: dict[str, Any],
) -> tuple[Chat, bool]:  # fmt: skip
    """The slot's chat, locked, with the request's settings; created when new. True when created here."""
    if not slot.chat_exists:
        fields = {"model": model, "title": _title_from(messages), "session_ref": session_ref, "options": options}
        created = _chat_insert(company, user, slot.chat_id, {**fields, "user_ref": ""})
        if created is not None:
            return created, True
        # else a request in the same new chat got there first: join it if it is the caller's
    chat: Chat | None = chat_visible(company=company, user=user, chat_id=slot.chat_id, lock=True)
    if chat is None:
        raise NotFound("Chat not found.")
    changed = {"model": model, "session_ref": session_ref, "options": options, "state": ChatState.ONLINE}
    for name, value in changed.items():
        setattr(chat, name, value)
    chat.save(update_fields=[*changed, "updated_at"])
    return chat, False


@dataclass
class ReplyRecord:
    """The assistant's reply to store with a completion (whatever arrived of it)."""

    content: str
    prompt_tokens: int
    completion_tokens: int


def completion_record(
    *,
    company: Any,
    user: Any,
    slot: CompletionSlot,
    model: str,
    session_ref: str,
    messages: list[dict[str, Any]],
    options: dict[str, Any],
    reply: ReplyRecord | None,
    usage: dict[str, Any],
) -> Chat:
    """Save a finished completion in one transaction: the chat (created on first use), the request's new
    turns, the reply under the slot's message id (replacing it on regeneration) and the usage record."""
    try:
        with transaction.atomic():
            chat, created = _completion_chat(company, user, slot, model, session_ref, messages, options)
            Message.objects.bulk_create(
                Message(company=company, chat=chat, role=m["role"], content=text_of(m.get("content")))
                for m in _new_turns(messages, created)
            )
            if reply is not None:
                _reply_store(company, chat, slot, model, reply, touch_chat=not created)
            usage_record(company=company, user=user, chat=chat, model=model, **usage)
    except IntegrityError:  # the reply's id was taken meanwhile by a concurrent request
        raise Conflict("This message id is already used; send a new id for each reply.") from None
    return chat


def _reply_store(
    company: Any, chat: Chat, slot: CompletionSlot, model: str, reply: ReplyRecord, *, touch_chat: bool
) -> None:
    fields = {
        "role": MessageRole.ASSISTANT,
        "content": reply.content,
        "model": model,
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }
    now = timezone.now()
    if not (
        slot.replaces_reply and Message.objects.filter(pk=slot.message_id, chat=chat).update(**fields, updated_at=now)
    ):
        Message.objects.create(id=slot.message_id, company=company, chat=chat, **fields)
    if touch_chat:
        Chat.objects.filter(pk=chat.pk).update(updated_at=now)


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
