"""Provider engines: one small Protocol, a registry by kind, and the clients behind it.

An engine turns a `CompletionRequest` into either a whole `chat.completion` (`complete`) or a stream of
`chat.completion.chunk` JSON payloads (`open_stream`), each exactly as the upstream sent it so the gateway
can forward the bytes without re-encoding them. `open_stream` returns only once the upstream has answered
with a success status: connection errors, 429 and 5xx are retried with exponential backoff before that
point, never after the first byte has been forwarded.

Errors are `ProviderError` subclasses with the status the gateway answers with (502, 504, 429, 400, 404).
Keys travel only in request headers; they never appear in errors or logs.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from django.conf import settings

from apps.core.exceptions import ApplicationError, RateLimited
from apps.core.outbound import BlockedAddress, guarded_session, validate_url

# --- errors -----------------------------------------------------------------------------------------


class ProviderError(ApplicationError):
    """The upstream could not give an answer."""

    status_code = 502
    default_message = "The model provider could not be reached."


class ProviderTimeout(ProviderError):
    status_code = 504
    default_message = "The model provider did not answer in time."


class ProviderRateLimited(ProviderError, RateLimited):
    """The upstream's 429, passed on with its Retry-After."""

    status_code = 429
    default_message = "The model provider is rate limiting requests. Retry later."


class ProviderRejected(ProviderError):
    """The upstream refused the request itself (bad parameters): the caller's to fix."""

    status_code = 400
    default_message = "The model provider rejected the request."


class ProviderModelNotFound(ProviderError):
    status_code = 404
    default_message = "Model not found at the provider."


# --- requests and results -------------------------------------------------------------------------


@dataclass
class Grounding:
    """What a registry llm model adds to a conversation: the best passages of its documents, its vocabulary."""

    question: str
    passages: list[Any]  # retrieval Hits: text, source_id, source_name, score
    vocabulary: list[tuple[str, str]] = field(default_factory=list)

    def system_message(self) -> dict[str, Any]:
        """The context as one system message, for upstreams that answer from the whole conversation."""
        lines = ["Answer from these passages of the company's documents; say so when they do not answer it."]
        for number, hit in enumerate(self.passages, 1):
            lines.append(f"[{number}] ({hit.source_name}) {hit.text.strip()}")
        if self.vocabulary:
            lines.append("Vocabulary:")
            lines.extend(f"- {term}: {definition}" for term, definition in self.vocabulary)
        return {"role": "system", "content": "\n".join(lines)}


@dataclass
class CompletionRequest:
    """What the gateway asks of an engine; `model` is the upstream's own model name."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    include_usage: bool = True
    grounding: Grounding | None = None

    def upstream_messages(self) -> list[dict[str, Any]]:
        """The conversation as sent upstream: the grounding's context first, when there is one."""
        if self.grounding is None:
            return self.messages
        return [self.grounding.system_message(), *self.messages]


@dataclass
class UpstreamTarget:
    """Where and how to reach one provider; `api_key` is the decrypted key for this call only."""

    kind: str
    endpoint: str
    api_key: str = field(default="", repr=False)
    api_version: str = ""


class ChatEngine(Protocol):
    """What every provider client offers."""

    async def complete(self, request: CompletionRequest) -> dict[str, Any]:
        """A whole `chat.completion` object."""

    async def open_stream(self, request: CompletionRequest) -> AsyncIterator[bytes]:
        """Chunk payloads (JSON bytes, without `data: `), after the upstream accepted the request."""

    async def list_models(self) -> list[str]:
        """The upstream's model names."""


EngineFactory = Callable[[UpstreamTarget], ChatEngine]
_ENGINES: dict[str, EngineFactory] = {}


def register_engine(kind: str) -> Callable[[EngineFactory], EngineFactory]:
    def decorator(factory: EngineFactory) -> EngineFactory:
        _ENGINES[kind] = factory
        return factory

    return decorator


def engine_for(target: UpstreamTarget) -> ChatEngine:
    """The engine for a provider kind."""
    try:
        return _ENGINES[target.kind](target)
    except KeyError:
        raise ProviderError(f"Unknown provider kind {target.kind!r}.") from None


# --- shared HTTP session ----------------------------------------------------------------------------

# One pooled session per event loop, so upstream connections are kept alive between requests.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = guarded_session(limit=settings.GATEWAY_UPSTREAM_CONNECTIONS)
        _sessions[loop] = session
    return session


async def close_sessions() -> None:
    """Close the running loop's pooled session (tests, shutdown)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def _timeout() -> aiohttp.ClientTimeout:
    # No total limit: a long answer may stream for minutes; each read may wait GATEWAY_READ_TIMEOUT_SECONDS.
    return aiohttp.ClientTimeout(
        total=None,
        connect=settings.GATEWAY_CONNECT_TIMEOUT_SECONDS,
        sock_connect=settings.GATEWAY_CONNECT_TIMEOUT_SECONDS,
        sock_read=settings.GATEWAY_READ_TIMEOUT_SECONDS,
    )


# --- the OpenAI-compatible client -------------------------------------------------------------------

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _retry_after(headers: Any) -> int | None:
    raw = headers.get("Retry-After", "")
    try:
        return max(0, int(float(raw)))
    except ValueError:
        return None


def _upstream_message(body: bytes, secret: str) -> str:
    """The upstream's own error text, short, with our key removed should it echo it."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            text = error
    text = " ".join(text.split())[:300]
    if secret:
        text = text.replace(secret, "[redacted]")
    return text


def _error_for_status(status: int, body: bytes, headers: Any, secret: str) -> ProviderError:
    message = _upstream_message(body, secret)
    suffix = f": {message}" if message else "."
    if status == 429:
        return ProviderRateLimited(
            f"The model provider is rate limiting requests{suffix}", retry_after=_retry_after(headers)
        )
    if status == 404:
        return ProviderModelNotFound(f"Model not found at the provider{suffix}")
    if status in (400, 413, 422):
        return ProviderRejected(f"The model provider rejected the request{suffix}")
    if status in (401, 403):
        return ProviderError(f"The model provider refused the configured API key ({status}).")
    return ProviderError(f"The model provider answered with an error ({status}){suffix}")


class OpenAICompatibleEngine:
    """An OpenAI-compatible upstream: `POST {base}/v1/chat/completions`, `GET {base}/v1/models`."""

    def __init__(self, target: UpstreamTarget) -> None:
        self.target = target
        base = target.endpoint.rstrip("/")
        self.base = base if base.endswith("/v1") else f"{base}/v1"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.target.api_key:
            headers["Authorization"] = f"Bearer {self.target.api_key}"
        return headers

    def _completions_url(self, model: str) -> str:
        return f"{self.base}/chat/completions"

    def _models_url(self) -> str:
        return f"{self.base}/models"

    def _body(self, request: CompletionRequest, *, stream: bool) -> bytes:
        body: dict[str, Any] = {"model": request.model, "messages": request.upstream_messages(), **request.params}
        if stream:
            body["stream"] = True
            if request.include_usage:
                body["stream_options"] = {"include_usage": True}
        return json.dumps(body).encode()

    async def _send(self, request: CompletionRequest, *, stream: bool) -> aiohttp.ClientResponse:
        """POST with retries before the first byte; returns a response with a 2xx status, body unread."""
        url = validate_url(self._completions_url(request.model))
        body = self._body(request, stream=stream)
        attempts = settings.GATEWAY_MAX_RETRIES + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await _session().post(
                    url, data=body, headers=self._headers(), timeout=_timeout(), allow_redirects=False
                )
            except TimeoutError as exc:  # connect timeouts are not retried: the deadline is already spent
                raise ProviderTimeout() from exc
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.__cause__, BlockedAddress) or isinstance(
                    getattr(exc, "os_error", None), BlockedAddress
                ):
                    raise BlockedAddress() from exc
                if last:
                    raise ProviderError("The model provider could not be reached.") from exc
                await _backoff(attempt, None)
                continue
            except aiohttp.ClientError as exc:
                if last:
                    raise ProviderError(f"The model provider connection failed ({exc.__class__.__name__}).") from exc
                await _backoff(attempt, None)
                continue
            if response.status < 300:
                return response
            try:
                error_body = await response.content.read(64 * 1024)
            except (aiohttp.ClientError, TimeoutError):
                error_body = b""
            finally:
                response.release()
            error = _error_for_status(response.status, error_body, response.headers, self.target.api_key)
            retry_after = _retry_after(response.headers)
            if response.status not in _RETRY_STATUSES or last:
                raise error
            if retry_after is not None and retry_after > settings.GATEWAY_RETRY_MAX_WAIT_SECONDS:
                raise error  # the upstream asks for longer than we hold a request open: tell the caller
            await _backoff(attempt, retry_after)
        raise ProviderError()  # not reached: the last attempt returns or raises

    async def complete(self, request: CompletionRequest) -> dict[str, Any]:
        response = await self._send(request, stream=False)
        try:
            raw = await response.content.read(settings.OUTBOUND_MAX_BYTES + 1)
        except TimeoutError as exc:
            raise ProviderTimeout() from exc
        except aiohttp.ClientError as exc:
            raise ProviderError("The model provider's answer broke off.") from exc
        finally:
            response.release()
        if len(raw) > settings.OUTBOUND_MAX_BYTES:
            raise ProviderError("The model provider's answer is over the size limit.")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ProviderError("The model provider's answer is not JSON.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise ProviderError("The model provider's answer is not a chat completion.")
        return data

    async def open_stream(self, request: CompletionRequest) -> AsyncIterator[bytes]:
        response = await self._send(request, stream=True)
        return _sse_payloads(response)

    async def list_models(self) -> list[str]:
        url = validate_url(self._models_url())
        timeout = aiohttp.ClientTimeout(total=settings.GATEWAY_MODELS_TIMEOUT_SECONDS)
        async with _session().get(url, headers=self._headers(), timeout=timeout, allow_redirects=False) as response:
            if response.status >= 300:
                raise ProviderError(f"The model provider answered {response.status} to the model list.")
            data = await response.json(content_type=None)
        items = data.get("data", []) if isinstance(data, dict) else []
        return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]


async def _backoff(attempt: int, retry_after: int | None) -> None:
    delay = settings.GATEWAY_RETRY_BACKOFF_SECONDS * (2**attempt) * (1 + random.random() / 4)  # noqa: S311
    await asyncio.sleep(max(delay, float(retry_after or 0)))


async def _sse_payloads(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The `data:` payloads of an SSE body as they arrive; ends at `[DONE]` or the end of the body.

    A body that breaks off or stalls raises ProviderError/ProviderTimeout; the connection is closed
    (not pooled) whenever the stream did not end cleanly, which also cancels the upstream's work.
    """
    clean = False
    try:
        async for line in response.content:
            if not line.startswith(b"data:"):
                continue  # comments, event names, blank separators
            payload = line[5:].strip()
            if payload == b"[DONE]":
                clean = True
                return
            if payload:
                yield payload
        clean = True
    except TimeoutError as exc:
        raise ProviderTimeout("The model provider stopped sending in the middle of the answer.") from exc
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a line over aiohttp's size limit
        raise ProviderError("The model provider's stream broke off in the middle of the answer.") from exc
    finally:
        if clean:
            response.release()
        else:
            response.close()


register_engine("openai")(OpenAICompatibleEngine)


@register_engine("azure")
class AzureOpenAIEngine(OpenAICompatibleEngine):
    """Azure OpenAI: deployments in the path, `api-version` in the query, the key in `api-key`."""

    def __init__(self, target: UpstreamTarget) -> None:
        super().__init__(target)
        self.base = target.endpoint.rstrip("/")
        self.api_version = target.api_version or settings.GATEWAY_AZURE_API_VERSION

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.target.api_key:
            headers["api-key"] = self.target.api_key
        return headers

    def _completions_url(self, model: str) -> str:
        return (
            f"{self.base}/openai/deployments/{quote(model, safe='')}/chat/completions"
            f"?api-version={quote(self.api_version)}"
        )

    def _models_url(self) -> str:
        return f"{self.base}/openai/deployments?api-version={quote(self.api_version)}"


# --- the built-in offline engine --------------------------------------------------------------------

BUILTIN_MODELS = ("assistant",)
_WORDS = re.compile(r"\S+\s*")


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or OpenAI's list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def builtin_answer(messages: list[dict[str, Any]], context: list[str] | None = None) -> str:
    """The offline model's answer: built from the conversation (and passages, when given) alone."""
    user_turns = [content_text(m.get("content")).strip() for m in messages if m.get("role") == "user"]
    question = next((text for text in reversed(user_turns) if text), "")
    if not question:
        return "Hello! I am the built-in assistant. Ask me anything about this conversation."
    lowered = question.lower().rstrip("!.? ")
    if lowered in {"hi", "hello", "hey", "hello chat", "good morning", "good afternoon", "good evening"}:
        return "Hello! How can I help you?"
    parts = [f'You said: "{question}".']
    if context:
        parts.append("From the documents: " + " ".join(passage.strip() for passage in context[:3]))
    earlier = [text for text in user_turns[:-1] if text]
    if earlier:
        parts.append(f"Earlier you mentioned: {earlier[-1]}")
    parts.append(
        "I am the built-in offline model, so I can only work with what this conversation contains; "
        "configure an LLM provider for full answers."
    )
    return " ".join(parts)


def grounded_answer(grounding: Grounding) -> Any:
    """The offline answer from a registry model's passages: their sentences closest to the question."""
    from apps.models_registry.engines.answerers import ExtractiveAnswerer  # loads scikit-learn: only when needed

    return ExtractiveAnswerer().answer(grounding.question, grounding.passages, grounding.vocabulary)


@register_engine("builtin")
class BuiltinEngine:
    """Needs no network: answers from the conversation (or a registry model's passages), word by word."""

    def __init__(self, target: UpstreamTarget) -> None:
        self.target = target

    def _answer(self, request: CompletionRequest) -> str:
        if request.grounding is not None:
            text = grounded_answer(request.grounding).text
        else:
            text = builtin_answer(request.messages)
        max_tokens = request.params.get("max_tokens")
        if max_tokens:
            text = "".join(_WORDS.findall(text)[: int(max_tokens)]).rstrip()
        return text

    async def complete(self, request: CompletionRequest) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{int(time.time() * 1000):x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self._answer(request)},
                    "finish_reason": "stop",
                }
            ],
        }

    async def open_stream(self, request: CompletionRequest) -> AsyncIterator[bytes]:
        return self._stream(request)

    async def _stream(self, request: CompletionRequest) -> AsyncIterator[bytes]:
        base = {"id": f"chatcmpl-{int(time.time() * 1000):x}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": request.model}  # fmt: skip
        yield json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}).encode()
        for word in _WORDS.findall(self._answer(request)):
            await asyncio.sleep(0)  # let other requests run between tokens, as a network stream would
            yield json.dumps({**base, "choices": [{"index": 0, "delta": {"content": word}}]}).encode()
        yield json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).encode()

    async def list_models(self) -> list[str]:
        return list(BUILTIN_MODELS)


def call_sync(make: Callable[[], Any]) -> Any:
    """Run `await make()` from synchronous code (a DRF view, a task) on a loop of its own.

    The loop's pooled session is closed before returning, so nothing is left bound to a dead loop.
    """

    async def runner() -> Any:
        try:
            return await make()
        finally:
            await close_sessions()

    return asyncio.run(runner())
