"""One turn of a stored chat: the one way every chat dialect (SSE, WebSocket, REST) produces a reply.

`chat_turn_stream` checks and stores the user's message, builds the context (the actor's or activity's
system prompt, the chat's attachments trimmed to fit, the whole history), asks the chat's model through
the gateway's machinery (`completions.completion_prepare`: plan limits, model resolution, the message
slot), streams the tokens as they arrive, and stores the reply with its usage. Errors known before the
upstream's first payload are raised before the first event; a consumer that stops iterating (its task
cancelled, or the generator closed) cancels the upstream request and what arrived is stored as cancelled.

Context trimming rule: the system prompt and the whole history are always sent. Attachment text gets
what is left of CHAT_CONTEXT_TOKENS after them and after CHAT_REPLY_RESERVE_TOKENS for the answer, at most
CHAT_ATTACHMENT_CONTEXT_TOKENS; the newest attachment is served first, each one cut at a word boundary
when the budget runs out (marked "[…]"), older ones left out when nothing remains.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chat import services
from apps.chat.completions import (
    CompletionInput,
    Outcome,
    PreparedCompletion,
    completion_prepare,
    failure_outcome,
    in_db_thread,
    plan_account,
    rate_limit_check,
    stream_close,
    usage_fields,
    usage_numbers,
)
from apps.chat.models import Attachment, Chat, ChatState, EndUser, Message, MessageRole, UsageOutcome
from apps.chat.presence import STREAMS, Presence
from apps.core.api.parsers import NUL_MESSAGE
from apps.core.exceptions import InvalidInput, NotFound
from apps.models_registry.providers.engines import ProviderError, engine_for
from apps.models_registry.providers.tokens import count_prompt_tokens, count_tokens

MESSAGE_MAX_CHARS = 32_000
TRIMMED = " […]"


# --- events --------------------------------------------------------------------------------------------


@dataclass
class UserMessageStored:
    """The user's message is saved (sent once the model has started answering)."""

    message: Message


@dataclass
class StreamStarted:
    """The reply has begun; `message_id` is the id the reply will be stored under."""

    message_id: uuid.UUID


@dataclass
class Token:
    """A piece of the reply's text, as the upstream sent it."""

    text: str


@dataclass
class StreamEnded:
    """The reply is stored; usage: prompt_tokens, completion_tokens, total_tokens."""

    message: Message
    usage: dict[str, int]


TurnEvent = UserMessageStored | StreamStarted | Token | StreamEnded


# --- context -------------------------------------------------------------------------------------------


def _system_prompt(chat: Chat) -> str:
    """The actor's prompt (with its persona) or the activity's, as the chat's opening system message."""
    from apps.activities.selectors import activity_system_prompt
    from apps.actors.selectors import actor_system_prompt

    parts = []
    try:
        if chat.actor_id:
            persona = (chat.options or {}).get("persona")
            parts.append(actor_system_prompt(company=chat.company, actor_id=chat.actor_id, persona=persona))
        if chat.activity_id:
            parts.append(activity_system_prompt(company=chat.company, activity_id=chat.activity_id))
    except NotFound:
        pass  # the actor or activity was deleted since: the chat goes on without its prompt
    return "\n\n".join(part for part in parts if part)


def _cut(text: str, budget: int) -> str:
    """The longest start of `text` (at a word boundary) within `budget` tokens."""
    if count_tokens(text) <= budget:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits, by bisection on characters
        middle = (low + high + 1) // 2
        if count_tokens(text[:middle]) + 1 <= budget:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    space = cut.rfind(" ")
    return (cut[:space] if space > len(cut) // 2 else cut).rstrip() + TRIMMED


def attachment_context(attachments: Iterable[Attachment], budget: int) -> list[str]:
    """The attachments' texts within `budget` tokens: newest first, the last one that fits cut."""
    budget = min(budget, settings.CHAT_ATTACHMENT_CONTEXT_TOKENS)
    picked: list[str] = []
    for attachment in sorted(attachments, key=lambda a: a.created_at, reverse=True):
        if not attachment.text.strip():
            continue
        header = f"Document {attachment.filename}:\n"
        room = budget - count_tokens(header)
        if room <= 0:
            break
        text = _cut(attachment.text, room)
        budget -= count_tokens(header) + count_tokens(text)
        picked.append(header + text)
    return list(reversed(picked))  # upload order reads better


def chat_context(chat: Chat, history: list[Message]) -> list[dict[str, Any]]:
    """The messages sent to the model for the chat's next reply (see the module's trimming rule)."""
    system = _system_prompt(chat)
    turns = [{"role": m.role, "content": m.content} for m in history if m.role != MessageRole.SYSTEM or m.content]
    base = ([{"role": "system", "content": system}] if system else []) + turns
    budget = settings.CHAT_CONTEXT_TOKENS - settings.CHAT_REPLY_RESERVE_TOKENS - count_prompt_tokens(base)
    documents = attachment_context(chat.attachments.all(), budget) if budget > 0 else []
    if documents:
        note = "The user has shared these documents; use them to answer.\n\n" + "\n\n".join(documents)
        system = f"{system}\n\n{note}" if system else note
        base = [{"role": "system", "content": system}, *turns]
    return base


# --- before and after the upstream ----------------------------------------------------------------------


def _content_clean(content: Any) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InvalidInput("The message must be a non-empty string.")
    if len(content) > MESSAGE_MAX_CHARS:
        raise InvalidInput(f"The message must be at most {MESSAGE_MAX_CHARS} characters.")
    if "\x00" in content:
        raise InvalidInput(NUL_MESSAGE)
    return content


@dataclass
class PreparedTurn:
    prepared: PreparedCompletion
    user_message: Message


def turn_prepare(
    *,
    chat: Chat,
    content: str,
    user: Any,
    end_user: EndUser | None,
    source: str,
    message_id: Any,
    started: float,
    params: dict[str, Any] | None = None,
) -> PreparedTurn:
    """Check everything, then store the user's message; nothing is stored when a check fails."""
    content = _content_clean(content)
    reply_id = message_id if isinstance(message_id, uuid.UUID) else None
    if message_id is not None and reply_id is None:
        try:
            reply_id = uuid.UUID(str(message_id))
        except ValueError:
            raise InvalidInput("message_id must be a UUID.") from None
    company = chat.company
    rate_limit_check(company=company)
    current = Chat.objects.for_company(company).select_related("company").filter(pk=chat.pk).first()
    if current is None or (end_user is not None and current.end_user_id != end_user.pk):
        raise NotFound("Chat not found.")
    caller = user if user is not None else services.CompanyCaller()
    history = list(current.messages.order_by("created_at", "id"))
    messages = [*chat_context(current, history), {"role": "user", "content": content}]
    data = CompletionInput(
        message_id=reply_id or uuid.uuid4(),
        chat_id=current.pk,
        session_id=current.session_ref,
        model=current.model or services.default_model(company),
        stream=True,
        messages=messages,
        params=dict(params or {}),
    )
    prepared = completion_prepare(company=company, user=caller, data=data, source=source, started=started)
    prepared.request.include_usage = True
    with transaction.atomic():
        message = Message.objects.create(company=company, chat=current, role=MessageRole.USER, content=content)
        changes: dict[str, Any] = {"state": ChatState.ONLINE, "ended_at": None, "updated_at": timezone.now()}
        if not current.title:
            changes["title"] = services.title_from(content)
        Chat.objects.filter(pk=current.pk).update(**changes)
    return PreparedTurn(prepared, message)


def turn_finish(*, prepared: PreparedCompletion, outcome: Outcome) -> tuple[Message | None, dict[str, int]]:
    """Store the reply (whatever arrived of it) and its usage, and count them against the plan."""
    prompt, completion, local = usage_numbers(prepared, outcome)
    reply = None
    with transaction.atomic():
        chat = Chat.objects.filter(pk=prepared.data.chat_id).first()  # deleted meanwhile: usage only
        if chat is not None and (outcome.content or outcome.outcome == UsageOutcome.OK):
            reply = services.turn_reply_store(
                company=prepared.company,
                chat=chat,
                slot=prepared.slot,
                model=prepared.data.model,
                reply=services.ReplyRecord(outcome.content, prompt, completion),
            )
        services.usage_record(
            company=prepared.company,
            user=prepared.user,
            chat=chat,
            model=prepared.data.model,
            **usage_fields(prepared, outcome, prompt, completion, local),
        )
    return reply, plan_account(prepared, prompt, completion)


def _chunk_text(payload: bytes, outcome: Outcome) -> str:
    """The text of one streamed chunk; the usage, when the chunk carries it, is kept on `outcome`."""
    try:
        chunk = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(chunk, dict):
        return ""
    if isinstance(chunk.get("usage"), dict):
        outcome.usage = chunk["usage"]
    parts = []
    for choice in chunk.get("choices") or ():
        content = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
        if isinstance(content, str):
            parts.append(content)
    return "".join(parts)


# --- the turn ------------------------------------------------------------------------------------------


async def chat_turn_stream(
    *,
    chat: Chat,
    content: str,
    user: Any = None,
    end_user: EndUser | None = None,
    source: str,
    message_id: Any = None,
    params: dict[str, Any] | None = None,
) -> AsyncGenerator[TurnEvent, None]:
    """Store the user's message, stream the chat model's reply, store it: UserMessageStored, StreamStarted,
    Token…, StreamEnded.

    `user` is the authenticated caller (a person or the company's key principal; None: the company),
    `end_user` the tenant's end-user when the chat is theirs (another end-user's chat is not found),
    `source` names the surface for the usage records ("stream", "websocket", "tenant"…), `message_id`
    optionally fixes the reply's id, `params` are sampling parameters for the upstream (temperature,
    max_tokens…). Use it under `contextlib.aclosing` when you may stop early.
    """
    started = time.perf_counter()
    turn = await in_db_thread(turn_prepare)(
        chat=chat, content=content, user=user, end_user=end_user, source=source, message_id=message_id,
        started=started, params=params,
    )  # fmt: skip
    prepared = turn.prepared
    outcome = Outcome()
    parts: list[str] = []
    rest: AsyncIterator[bytes] | None = None
    stored = False
    # The chat shows as live (chats/online/get) while its reply streams, whichever surface asked for it.
    live = Presence(company_id=chat.company_id, chat_id=chat.pk, kind=STREAMS)
    await sync_to_async(live.enter, thread_sensitive=False)()
    try:
        rest = await engine_for(prepared.resolved.target).open_stream(prepared.request)
        payload = await anext(rest, None)
        outcome.first_token_ms = int((time.perf_counter() - started) * 1000)
        yield UserMessageStored(turn.user_message)
        yield StreamStarted(prepared.slot.message_id)
        while payload is not None:
            text = _chunk_text(payload, outcome)
            if text:
                parts.append(text)
                yield Token(text)
            if live.touch_due():  # a Redis write: off the event loop, like enter and leave
                await sync_to_async(live.refresh, thread_sensitive=False)()
            payload = await anext(rest, None)
        outcome.content = "".join(parts)
        reply, usage = await in_db_thread(turn_finish)(prepared=prepared, outcome=outcome)
        stored = True
        if reply is None:
            raise NotFound("Chat not found.")  # deleted while the reply was streaming
        yield StreamEnded(reply, usage)
    except ProviderError as exc:
        failed = failure_outcome(exc)
        outcome.outcome, outcome.error = failed.outcome, failed.error
        raise
    except (asyncio.CancelledError, GeneratorExit):
        outcome.outcome, outcome.error = UsageOutcome.CANCELLED, "The client stopped the reply."
        raise
    finally:
        await asyncio.shield(sync_to_async(live.leave, thread_sensitive=False)())
        if rest is not None:
            await stream_close(rest)  # closes the upstream connection when the stream did not finish
        if not stored:
            outcome.content = "".join(parts)
            await asyncio.shield(in_db_thread(turn_finish)(prepared=prepared, outcome=outcome))


async def chat_turn_collect(**kwargs: Any) -> list[TurnEvent]:
    """Every event of a turn (for callers that want the whole reply at once)."""
    return [event async for event in chat_turn_stream(**kwargs)]


def chat_turn_run(**kwargs: Any) -> list[TurnEvent]:
    """`chat_turn_stream` for synchronous callers (a task, a management command); the events of the turn."""
    from apps.models_registry.providers.engines import call_sync

    return call_sync(lambda: chat_turn_collect(**kwargs))  # type: ignore[no-any-return]
