"""Chat completions: prepare (model, keys, chat), call the engine, forward the stream, save and account.

The hot path of a stream forwards each upstream payload's bytes as they arrive; the payloads are
parsed once, after the stream, to save the reply and count usage. Database work happens in two
thread hops (`in_db_thread`): one before the upstream call, one after the answer.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction
from django.utils import timezone

from apps.billing.services.limits import meters_check
from apps.billing.services.limits import usage_add as plan_usage_add
from apps.chat import services
from apps.chat.models import UsageOutcome
from apps.chat.recent import RecentlyResolved
from apps.chat.selectors import CompletionSlot, completion_slot
from apps.core.limits import INFERENCE_REQUESTS, TOKENS
from apps.models_registry.providers.engines import (
    CompletionRequest,
    ProviderError,
    ProviderTimeout,
    call_sync,
    engine_for,
)
from apps.models_registry.providers.selectors import ResolvedModel, model_resolve, providers_version
from apps.models_registry.providers.tokens import count_prompt_tokens, count_tokens, text_of
from apps.models_registry.providers.usage import rate_limit_check
from apps.models_registry.selectors import default_chat_model
from apps.models_registry.services.inference import llm_grounding

# A pooled thread checks its connection (age, health) at most this often, rather than before every hop:
# the check costs a round trip, and a request makes two hops.
CONNECTION_CHECK_SECONDS = 1.0
_checked = threading.local()


def in_db_thread(func: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`func` (ORM work) from async code, on a pooled worker thread that keeps its database connection.

    Django's default for async views is a fresh thread per request, hence a fresh database connection
    per request; pooled threads reuse theirs, checked (age, health) as Django checks them at a request's
    start, at most once every CONNECTION_CHECK_SECONDS. Each call is self-contained (its own
    transactions), so it does not matter which thread runs it.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - getattr(_checked, "at", 0.0) > CONNECTION_CHECK_SECONDS:
            close_old_connections()
            _checked.at = now
        return func(*args, **kwargs)

    return sync_to_async(call, thread_sensitive=False)


@dataclass
class CompletionInput:
    """A checked chat completions request."""

    message_id: uuid.UUID
    chat_id: uuid.UUID
    session_id: str
    model: str
    stream: bool
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    include_usage: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class PreparedCompletion:
    """Everything a completion needs once the database has been consulted."""

    company: Any
    user: Any
    slot: CompletionSlot
    resolved: ResolvedModel
    request: CompletionRequest
    data: CompletionInput
    source: str
    started: float


# --- before the upstream call ----------------------------------------------------------------------


def _default_variables(user: Any) -> dict[str, str]:
    now = timezone.now()
    defaults = {"{{CURRENT_DATE}}": now.date().isoformat(), "{{CURRENT_TIME}}": now.strftime("%H:%M:%S")}
    if getattr(user, "is_person", False):
        defaults["{{USER_NAME}}"] = user.get_full_name()
        defaults["{{USER_EMAIL}}"] = user.email
    return defaults


def _variable_key(name: str) -> str:
    name = name.strip()
    return name if name.startswith("{{") else "{{" + name + "}}"


def substitute_variables(messages: list[dict[str, Any]], variables: dict[str, str], user: Any) -> list[dict[str, Any]]:
    """`{{USER_NAME}}`, `{{CURRENT_DATE}}`… replaced in system and user messages (the client's values win)."""
    values = {**_default_variables(user), **{_variable_key(k): v for k, v in variables.items()}}
    pattern = re.compile("|".join(re.escape(key) for key in sorted(values, key=len, reverse=True)))

    def fill(text: str) -> str:
        return pattern.sub(lambda match: values[match.group(0)], text) if "{{" in text else text

    result = []
    for message in messages:
        content = message["content"]
        if message["role"] in ("system", "user"):
            if isinstance(content, str):
                content = fill(content)
            else:
                content = [
                    {**part, "text": fill(part["text"])} if isinstance(part, dict) and isinstance(part.get("text"), str)
                    else part
                    for part in content
                ]  # fmt: skip
        result.append({**message, "content": content})
    return result


recent_models = RecentlyResolved("GATEWAY_MODEL_CACHE_SECONDS")


def _model_resolve(*, company: Any, user: Any, model_id: str) -> ResolvedModel:
    """`model_resolve`, remembered per process while the company's providers keep their version.

    A provider or key change is seen at the next request; a role change of the caller within
    GATEWAY_MODEL_CACHE_SECONDS. Registry models are resolved every time (their rows change with training).
    """
    version = providers_version(company_id=company.pk)
    key = RecentlyResolved.key(str(company.pk), str(getattr(user, "pk", None)), model_id, version)
    resolved = recent_models.get(key)
    if resolved is None:
        resolved = model_resolve(company=company, user=user, model_id=model_id)
        if resolved.registry_model is None:
            recent_models.put(key, resolved)
    return resolved


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    return next(
        (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user" and m.get("content")), ""
    )


def completion_prepare(
    *, company: Any, user: Any, data: CompletionInput, source: str, started: float
) -> PreparedCompletion:
    """Resolve the model and the key to use, and check where the chat will be saved (reads only).

    Nothing is written before the upstream answers: the chat, its new turns, the reply and the usage are
    saved together afterwards (`completion_finish`), so the request waits for no commit before its first
    token.
    """
    # The plan's monthly allowances: refused before the upstream is asked, counted when the answer is saved.
    meters_check(company=company, amounts={INFERENCE_REQUESTS: 1, TOKENS: 1})
    resolved = _model_resolve(company=company, user=user, model_id=data.model)
    messages = substitute_variables(data.messages, data.variables, user)
    slot = completion_slot(company=company, user=user, chat_id=data.chat_id, message_id=data.message_id)
    grounding = None
    if resolved.registry_model is not None:  # a registry llm model: its documents and vocabulary come along
        grounding = llm_grounding(model=resolved.registry_model, question=_last_user_text(messages))
    request = CompletionRequest(
        model=resolved.upstream_model, messages=messages, params=data.params, grounding=grounding
    )
    return PreparedCompletion(company, user, slot, resolved, request, data, source, started)


# --- after the answer ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    content: str = ""
    usage: dict[str, Any] | None = None
    outcome: str = UsageOutcome.OK
    error: str = ""
    first_token_ms: int | None = None


def usage_numbers(prepared: PreparedCompletion, outcome: Outcome) -> tuple[int, int, bool]:
    usage = outcome.usage or {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion, False
    if outcome.outcome != UsageOutcome.OK and not outcome.content:
        return 0, 0, True  # nothing came back: nothing to bill
    return count_prompt_tokens(prepared.request.upstream_messages()), count_tokens(outcome.content), True


def completion_finish(*, prepared: PreparedCompletion, outcome: Outcome) -> dict[str, int]:
    """Save the chat, its new turns, the reply (whatever arrived of it) and the usage; the usage figures.

    One transaction for all of it (the chat and the plan's counters): one commit rather than three.
    """
    prompt, completion, local = usage_numbers(prepared, outcome)
    with transaction.atomic():
        return _finish_write(prepared, outcome, prompt, completion, local)


def _finish_write(
    prepared: PreparedCompletion, outcome: Outcome, prompt: int, completion: int, local: bool
) -> dict[str, int]:
    data = prepared.data
    services.completion_record(
        company=prepared.company,
        user=prepared.user,
        slot=prepared.slot,
        model=data.model,
        session_ref=data.session_id,
        messages=prepared.request.messages,
        options=data.options,
        reply=services.ReplyRecord(outcome.content, prompt, completion) if outcome.content else None,
        usage=usage_fields(prepared, outcome, prompt, completion, local),
    )
    return plan_account(prepared, prompt, completion)


def usage_fields(
    prepared: PreparedCompletion, outcome: Outcome, prompt: int, completion: int, local: bool
) -> dict[str, Any]:
    """The usage record's fields for a finished (or failed, or cancelled) completion."""
    return {
        "provider": prepared.resolved.provider_name,
        "source": prepared.source,
        "stream": prepared.data.stream,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "counted_locally": local,
        "latency_ms": int((time.perf_counter() - prepared.started) * 1000),
        "first_token_ms": outcome.first_token_ms,
        "outcome": outcome.outcome,
        "error": outcome.error,
    }


def plan_account(prepared: PreparedCompletion, prompt: int, completion: int) -> dict[str, int]:
    """Count the request and its tokens against the plan; the usage figures."""
    plan_usage_add(company=prepared.company, amounts={INFERENCE_REQUESTS: 1, TOKENS: prompt + completion})
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def failure_outcome(exc: ProviderError) -> Outcome:
    kind = UsageOutcome.TIMEOUT if isinstance(exc, ProviderTimeout) else UsageOutcome.ERROR
    return Outcome(outcome=kind, error=exc.message)


# --- non-streaming -----------------------------------------------------------------------------------


def _completed(prepared: PreparedCompletion, result: dict[str, Any]) -> dict[str, Any]:
    """Save a whole answer and account for it; usage is filled in when the upstream gave none."""
    choice = result["choices"][0] if result["choices"] else {}
    content = text_of((choice.get("message") or {}).get("content"))
    usage = completion_finish(prepared=prepared, outcome=Outcome(content=content, usage=result.get("usage")))
    if not isinstance(result.get("usage"), dict):
        result["usage"] = usage
    return result


async def completion_run(prepared: PreparedCompletion) -> tuple[dict[str, Any], float]:
    """The whole `chat.completion` and the seconds spent waiting for the upstream."""
    upstream_started = time.perf_counter()
    try:
        result = await engine_for(prepared.resolved.target).complete(prepared.request)
    except ProviderError as exc:
        await in_db_thread(completion_finish)(prepared=prepared, outcome=failure_outcome(exc))
        raise
    upstream_seconds = time.perf_counter() - upstream_started
    return await in_db_thread(_completed)(prepared, result), upstream_seconds


async def _within(awaitable: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
    if timeout is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError as exc:
        raise ProviderTimeout(f"The model provider did not answer within {timeout:.1f} s.") from exc


def completion_run_sync(prepared: PreparedCompletion, *, timeout: float | None = None) -> dict[str, Any]:
    """`completion_run` for synchronous callers; the database work stays in the caller's thread.

    With `timeout`, an answer that takes longer is given up (and accounted as a timeout).
    """
    engine = engine_for(prepared.resolved.target)
    try:
        result = call_sync(lambda: _within(engine.complete(prepared.request), timeout))
    except ProviderError as exc:
        completion_finish(prepared=prepared, outcome=failure_outcome(exc))
        raise
    return _completed(prepared, result)


# --- streaming ---------------------------------------------------------------------------------------

_EMPTY_CHOICES = re.compile(rb'"choices"\s*:\s*\[\s*\]')


def _is_usage_only(payload: bytes) -> bool:
    """The final usage chunk: usage set and no choices."""
    return b'"usage"' in payload and _EMPTY_CHOICES.search(payload) is not None


def _sse(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


DONE = b"data: [DONE]\n\n"


def _read_payloads(payloads: list[bytes]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
    """The reply's text, the upstream's usage (if any), and the id/model/created of its chunks."""
    parts: list[str] = []
    usage = None
    meta: dict[str, Any] = {}
    for raw in payloads:
        try:
            chunk = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(chunk, dict):
            continue
        if not meta:
            meta = {key: chunk[key] for key in ("id", "created", "model") if key in chunk}
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            content = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
            if isinstance(content, str):
                parts.append(content)
    return "".join(parts), usage, meta


@dataclass
class OpenedStream:
    """An upstream stream whose first payload has arrived: ready to become the response body."""

    prepared: PreparedCompletion
    first: bytes | None
    rest: AsyncIterator[bytes]
    upstream_seconds: float
    first_token_ms: int

    async def events(self) -> AsyncIterator[bytes]:
        """SSE bytes for the client: the upstream's chunks as they come, usage when asked, then [DONE]."""
        prepared = self.prepared
        want_usage = prepared.data.include_usage
        payloads: list[bytes] = []
        outcome = Outcome(first_token_ms=self.first_token_ms)
        try:
            if self.first is not None:
                payloads.append(self.first)
                if want_usage or not _is_usage_only(self.first):
                    yield _sse(self.first)
                async for payload in self.rest:
                    payloads.append(payload)
                    if want_usage or not _is_usage_only(payload):
                        yield _sse(payload)
            outcome.content, outcome.usage, meta = _read_payloads(payloads)
            if want_usage and outcome.usage is None:  # the upstream gave none: send our own count
                figures = await in_db_thread(usage_numbers)(prepared, outcome)
                usage = {"prompt_tokens": figures[0], "completion_tokens": figures[1], "total_tokens": sum(figures[:2])}
                yield _sse(
                    json.dumps({**meta, "object": "chat.completion.chunk", "choices": [], "usage": usage}).encode()
                )
            yield DONE
        except ProviderError as exc:
            outcome = failure_outcome(exc)
            outcome.content, outcome.usage, _ = _read_payloads(payloads)
            outcome.first_token_ms = self.first_token_ms
            error = {"message": exc.message, "type": "upstream_error", "code": exc.status_code}
            yield _sse(json.dumps({"error": error}).encode())
            yield DONE
        except (asyncio.CancelledError, GeneratorExit):
            outcome.outcome, outcome.error = UsageOutcome.CANCELLED, "The client went away."
            outcome.content, outcome.usage, _ = _read_payloads(payloads)
            raise
        finally:
            await stream_close(self.rest)  # closes the upstream connection when the stream did not finish
            await asyncio.shield(in_db_thread(completion_finish)(prepared=prepared, outcome=outcome))


async def stream_close(iterator: AsyncIterator[bytes]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def completion_stream_open(prepared: PreparedCompletion) -> OpenedStream:
    """Open the upstream stream and wait for its first payload (retries happen before it)."""
    engine = engine_for(prepared.resolved.target)
    upstream_started = time.perf_counter()
    rest: AsyncIterator[bytes] | None = None
    try:
        rest = await engine.open_stream(prepared.request)
        first = await anext(rest, None)
    except ProviderError as exc:
        if rest is not None:
            await stream_close(rest)
        await in_db_thread(completion_finish)(prepared=prepared, outcome=failure_outcome(exc))
        raise
    now = time.perf_counter()
    first_token_ms = int((now - prepared.started) * 1000)
    return OpenedStream(prepared, first, rest, now - upstream_started, first_token_ms)


# --- the toolbox's chats/inference/post ------------------------------------------------------------------


def inference_run(*, company: Any, user: Any, text: str) -> str:
    """Send one input to the company's default model in a new chat; the reply's text (saved and accounted like any)."""
    rate_limit_check(company=company)
    data = CompletionInput(
        message_id=uuid.uuid4(),
        chat_id=uuid.uuid4(),
        session_id="",
        model=default_chat_model(company=company),
        stream=False,
        messages=[{"role": "user", "content": text}],
    )
    prepared = completion_prepare(
        company=company, user=user, data=data, source="inference", started=time.perf_counter()
    )
    result = completion_run_sync(prepared)
    choice = result["choices"][0] if result["choices"] else {}
    return text_of((choice.get("message") or {}).get("content"))
