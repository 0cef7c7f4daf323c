"""Writes about chats: open or create them, add turns, save replies, record usage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Company
from apps.chat.models import Chat, ChatState, CompletionUsage, EndUser, Message, MessageRole, Prompt
from apps.chat.selectors import CHAT_NOT_FOUND, CompletionSlot, chat_find, chat_visible
from apps.core.exceptions import Conflict, InvalidInput, NotFound
from apps.models_registry.providers.tokens import text_of

TITLE_LENGTH = 80


def _title_from(messages: list[dict[str, Any]]) -> str:
    first = next((text_of(m.get("content")).strip() for m in messages if m.get("role") == "user"), "")
    return title_from(first)


def title_from(text: str) -> str:
    """A chat's title made from its first message: one line, at most TITLE_LENGTH characters."""
    line = " ".join(text.split())
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
    extra: dict[str, Any] | None = None,
) -> Chat:
    """A new chat with the company's next number (the id is the client's, when it gives one)."""
    fields = {"model": model, "title": title, "session_ref": session_ref, "user_ref": user_ref, "options": options}
    fields.update(extra or {})
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


def turn_reply_store(*, company: Any, chat: Chat, slot: CompletionSlot, model: str, reply: ReplyRecord) -> Message:
    """Store a turn's reply under the slot's message id (replacing it on regeneration); the message."""
    _reply_store(company, chat, slot, model, reply, touch_chat=True)
    return Message.objects.get(pk=slot.message_id)


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


# --- tenants' end-users and their chats ------------------------------------------------------------------

EXTERNAL_ID_LENGTH = 200


def external_id_clean(external_id: Any) -> str:
    """A tenant's id for an end-user, checked: a non-empty printable string of at most 200 characters."""
    if not isinstance(external_id, str | int) or isinstance(external_id, bool):
        raise InvalidInput("user_id must be a string.")
    value = str(external_id).strip()
    if not value:
        raise InvalidInput("user_id must not be empty.")
    if len(value) > EXTERNAL_ID_LENGTH:
        raise InvalidInput(f"user_id must be at most {EXTERNAL_ID_LENGTH} characters.")
    if not value.isprintable():
        raise InvalidInput("user_id must contain printable characters only.")
    return value


def end_user_get_or_create(*, company: Any, external_id: Any) -> tuple[EndUser, bool]:
    """The company's end-user with this id, created on first use; True when created now."""
    value = external_id_clean(external_id)
    found = EndUser.objects.for_company(company).filter(external_id=value).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return EndUser.objects.create(company=company, external_id=value), True
    except IntegrityError:  # created meanwhile by a concurrent first request
        return EndUser.objects.for_company(company).get(external_id=value), False


def _opening_ids(company: Any, actorid: Any, activityid: Any) -> dict[str, Any]:
    """The actor's and activity's ids, checked to be the company's (unknown ids are not found)."""
    from apps.activities.selectors import activity_get
    from apps.actors.selectors import actor_get

    ids: dict[str, Any] = {}
    if actorid not in (None, ""):
        ids["actor_id"] = actor_get(company=company, actor_id=actorid).pk
    if activityid not in (None, ""):
        ids["activity_id"] = activity_get(company=company, activity_id=activityid).pk
    return ids


def default_model(company: Any) -> str:
    """The model a chat uses when none is given: the company's default llm model, else GATEWAY_DEFAULT_MODEL."""
    from apps.models_registry.selectors import default_chat_model

    return default_chat_model(company=company)


def model_check(*, company: Any, user: Any, model: Any) -> str:
    """A model id the caller may use; InvalidInput for an unknown one, PermissionDenied for a refused one."""
    from apps.models_registry.providers.selectors import model_resolve

    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("model must be a model id such as provider.model-name.")
    try:
        model_resolve(company=company, user=user if user is not None else CompanyCaller(), model_id=model.strip())
    except NotFound as exc:
        raise InvalidInput(f"Invalid model name: {exc.message}") from None
    return model.strip()


def dialect_chat_create(
    *,
    company: Any,
    user: Any = None,
    end_user: EndUser | None = None,
    title: str = "",
    model: str | None = None,
    metadata: dict[str, Any] | None = None,
    actorid: Any = None,
    activityid: Any = None,
    chat_id: uuid.UUID | None = None,
) -> Chat:
    """A new chat for a dialect: the model checked (default when none), the actor/activity checked."""
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput("metadata must be an object.")
    chosen = model_check(company=company, user=user, model=model or default_model(company))
    extra = {**_opening_ids(company, actorid, activityid), "metadata": metadata or {}, "end_user": end_user}
    user_ref = end_user.external_id if end_user is not None else ""
    with transaction.atomic():
        return chat_create(
            company=company, user=user, chat_id=chat_id, model=chosen, title=title[:300], user_ref=user_ref, extra=extra
        )


class CompanyCaller:
    """The company itself as the caller (a tenant's end-user acts through the company's key)."""

    is_person = False
    is_authenticated = True
    pk = None

    def has_any_role(self, roles: Any) -> bool:
        return True


def tenant_chat_create(
    *,
    company: Any,
    external_id: Any,
    title: str = "",
    model: str | None = None,
    metadata: dict[str, Any] | None = None,
    actorid: Any = None,
    activityid: Any = None,
    chat_id: uuid.UUID | None = None,
) -> tuple[Chat, bool]:
    """A tenant's chat for its end-user (created on first use); True when the end-user was created now."""
    with transaction.atomic():
        end_user, created = end_user_get_or_create(company=company, external_id=external_id)
        chat = dialect_chat_create(
            company=company,
            end_user=end_user,
            title=title,
            model=model,
            metadata=metadata,
            actorid=actorid,
            activityid=activityid,
            chat_id=chat_id,
        )
    return chat, created


# --- the chat stream dialect and the other dialects' writes ----------------------------------------------


def stream_chat_open(*, company: Any, user: Any, session: Any, model: str, earlier: list[dict[str, Any]]) -> Chat:
    """The chat a stream request continues (its model set to the request's) or a new one.

    For a new chat, the messages the client sent before its last one become the chat's first turns; a
    session already has its history stored, so earlier messages are not stored again.
    """
    chosen = model_check(company=company, user=user, model=model)
    with transaction.atomic():
        if session is not None:
            chat = chat_find(company=company, user=user, ref=session, lock=True)
            if chat.model != chosen:
                chat.model = chosen
                chat.save(update_fields=["model", "updated_at"])
            return chat
        chat = dialect_chat_create(company=company, user=user, model=chosen)
        Message.objects.bulk_create(
            Message(company=company, chat=chat, role=m["role"], content=text_of(m.get("content"))) for m in earlier
        )
    return chat


def chat_model_switch(*, company: Any, user: Any, ref: Any, model: str) -> Chat:
    """Give a chat another model; its whole history stays and is the next reply's context."""
    chosen = model_check(company=company, user=user, model=model)
    with transaction.atomic():
        chat = chat_find(company=company, user=user, ref=ref, lock=True)
        chat.model = chosen
        chat.save(update_fields=["model", "updated_at"])
    return chat


def chat_delete(*, company: Any, user: Any, ref: Any, end_user: EndUser | None = None) -> None:
    """Delete a chat with its messages and attachments (their files once the deletion is committed)."""
    with transaction.atomic():
        chat = chat_find(company=company, user=user, ref=ref, lock=True)
        if end_user is not None and chat.end_user_id != end_user.pk:
            raise NotFound(CHAT_NOT_FOUND)
        files = [str(a.file.name) for a in chat.attachments.all() if a.file.name]
        chat.delete()
        transaction.on_commit(lambda: _files_delete(files))


def _files_delete(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


# --- the conversations dialect ----------------------------------------------------------------------------


def conversation_create(
    *,
    company: Any,
    actor: Any,
    user_id: Any,
    title: str = "",
    model: str | None = None,
    actorid: Any = None,
    activityid: Any = None,
) -> Chat:
    """A chat owned by a user of the company: one's own, or anyone's for Company/User admins and the key pair."""
    from apps.accounts.roles import COMPANY_ADMIN, USER_MANAGER
    from apps.accounts.selectors import user_list
    from apps.core.exceptions import PermissionDenied
    from apps.core.ids import parse_uuid

    parsed = parse_uuid(user_id)
    owner = user_list(company=company).filter(pk=parsed).first() if parsed else None
    if owner is None:
        raise NotFound("User not found.")
    if getattr(actor, "is_person", False) and owner.pk != actor.pk and not actor.has_any_role((USER_MANAGER,)):
        raise PermissionDenied(f"Only {COMPANY_ADMIN} and {USER_MANAGER} may start conversations for others.")
    return dialect_chat_create(
        company=company, user=owner, title=title, model=model, actorid=actorid, activityid=activityid
    )


def message_add(*, company: Any, user: Any, ref: Any, role: str, content: str) -> Message:
    """Store a turn in a chat the caller may see (no reply is asked for); a first user turn names the chat."""
    if role not in MessageRole.values:
        raise InvalidInput(f"role must be one of: {', '.join(MessageRole.values)}.")
    with transaction.atomic():
        chat = chat_find(company=company, user=user, ref=ref, lock=True, message="Conversation not found.")
        message = Message.objects.create(company=company, chat=chat, role=role, content=content)
        changes: dict[str, Any] = {"updated_at": timezone.now()}
        if role == MessageRole.USER and not chat.title:
            changes["title"] = title_from(content)
        Chat.objects.filter(pk=chat.pk).update(**changes)
    return message
