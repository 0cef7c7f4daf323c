"""The OpenAI-compatible gateway: POST /api/chat/completions and GET /api/models, as async views.

These are plain async Django views (DRF views are synchronous): a stream is a StreamingHttpResponse
over an async generator, so each upstream chunk goes out as it arrives, and a client that goes away
cancels the generator, which closes the upstream request. Errors use the one translation of
`apps.core.exceptions`, in the `{"detail"}` style of this surface. Every answer carries
`X-Gateway-Overhead-Ms`: the time spent here rather than waiting for the upstream (for a stream, up to
its first chunk).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.chat.api.auth import authenticate_request, check_enterprise
from apps.chat.api.completion_input import parse_body, parse_completion
from apps.chat.completions import (
    PreparedCompletion,
    completion_prepare,
    completion_run,
    completion_stream_open,
    in_db_thread,
    rate_limit_check,
)
from apps.core.crypto import digest
from apps.core.exceptions import ApplicationError, PayloadTooLarge, error_body, translate_exception
from apps.models_registry.providers.engines import BUILTIN_MODELS, UpstreamTarget, engine_for
from apps.models_registry.providers.models import BUILTIN_PROVIDER, REGISTRY_MODEL_PREFIX, registry_model_id
from apps.models_registry.providers.selectors import provider_targets
from apps.models_registry.selectors import chat_model_list

logger = logging.getLogger("apps.chat.gateway")
OVERHEAD_HEADER = "X-Gateway-Overhead-Ms"


class Timing:
    """Seconds spent waiting for upstreams during one request."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.upstream = 0.0

    def overhead_ms(self) -> str:
        return f"{max(0.0, time.perf_counter() - self.started - self.upstream) * 1000:.2f}"


View = Callable[[HttpRequest, Timing], Coroutine[Any, Any, HttpResponseBase]]
AsyncView = Callable[[HttpRequest], Coroutine[Any, Any, HttpResponseBase]]


def gateway_view(methods: tuple[str, ...]) -> Callable[[View], AsyncView]:
    """An async gateway view: method check, errors in the detail style, the overhead header on every answer."""

    def decorator(view: View) -> AsyncView:
        @csrf_exempt  # CSRF is checked by the gateway's own authentication, for cookie sessions only
        @functools.wraps(view)
        async def wrapper(request: HttpRequest) -> HttpResponseBase:
            timing = Timing()
            try:
                if request.method not in methods:
                    response: HttpResponseBase = JsonResponse(
                        error_body("detail", 405, f'Method "{request.method}" not allowed.'), status=405
                    )
                    response["Allow"] = ", ".join(methods)
                else:
                    response = await view(request, timing)
            except ApplicationError as exc:
                response = _error_response(exc)
            response[OVERHEAD_HEADER] = timing.overhead_ms()
            return response

        return wrapper

    return decorator


def _error_response(exc: ApplicationError) -> HttpResponseBase:
    translated = translate_exception(exc)
    assert translated is not None  # noqa: S101 - every ApplicationError translates
    status, message, extra, headers = translated
    response = JsonResponse(error_body("detail", status, message, extra), status=status)
    for name, value in headers.items():
        response[name] = value
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _read_body(request: HttpRequest) -> bytes:
    """The body, up to GATEWAY_MAX_REQUEST_BYTES (the spec's 10 MB, over Django's general 2 MiB)."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.GATEWAY_MAX_REQUEST_BYTES
    if declared > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def _begin(request: HttpRequest, raw: bytes, started: float) -> PreparedCompletion:
    """One thread hop for everything before the upstream: who, what, may they, and the chat."""
    principal, _ = authenticate_request(request)
    company = principal.company
    check_enterprise(request, company)
    data = parse_completion(parse_body(raw))
    rate_limit_check(company=company)
    return completion_prepare(company=company, user=principal, data=data, source="gateway", started=started)


@gateway_view(("POST",))
async def chat_completions(request: HttpRequest, timing: Timing) -> HttpResponseBase:
    """POST /api/chat/completions: a `chat.completion`, or its chunks as Server-Sent Events."""
    prepared = await in_db_thread(_begin)(request, _read_body(request), timing.started)
    if not prepared.data.stream:
        try:
            result, timing.upstream = await completion_run(prepared)
        except ApplicationError:
            timing.upstream = time.perf_counter() - timing.started  # the failure was spent upstream
            raise
        return JsonResponse(result)
    opened = await completion_stream_open(prepared)
    timing.upstream = opened.upstream_seconds
    response = StreamingHttpResponse(opened.events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must not hold chunks back
    return response


# --- GET /api/models -------------------------------------------------------------------------------


def _model_entry(model_id: str, owned_by: str, name: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owned_by, "name": name}


async def _upstream_models(company_id: Any, name: str, target: UpstreamTarget) -> list[dict[str, Any]]:
    """One provider's models, cached briefly; an unreachable provider contributes none."""
    key = f"gateway-models:{company_id}:{name}:{digest(target.api_key + target.endpoint, purpose='models')[:16]}"
    cached = await cache.aget(key)
    if cached is None:
        try:
            cached = await engine_for(target).list_models()
        except (ApplicationError, aiohttp.ClientError, OSError, ValueError, TimeoutError) as exc:
            logger.warning("Provider %s did not list its models: %s", name, exc.__class__.__name__)
            return []
        await cache.aset(key, cached, timeout=settings.GATEWAY_MODELS_CACHE_SECONDS)
    return [_model_entry(f"{name}.{model}", name, model) for model in cached]


def _models_begin(request: HttpRequest) -> tuple[Any, list[tuple[str, UpstreamTarget]], list[dict[str, Any]]]:
    principal, _ = authenticate_request(request)
    company = principal.company
    check_enterprise(request, company)
    registry = [
        _model_entry(registry_model_id(pk), REGISTRY_MODEL_PREFIX, name)
        for pk, name in chat_model_list(company=company).values_list("pk", "name")
    ]
    return company, provider_targets(company=company, user=principal), registry


@gateway_view(("GET",))
async def models_list(request: HttpRequest, timing: Timing) -> HttpResponseBase:
    """GET /api/models: built-in models, the company's deployed llm models (`model.<uuid>`) and every
    provider's upstream models, in the OpenAI list shape."""
    company, targets, registry = await in_db_thread(_models_begin)(request)
    data = [_model_entry(f"{BUILTIN_PROVIDER}.{m}", BUILTIN_PROVIDER, f"Built-in {m}") for m in BUILTIN_MODELS]
    data.extend(registry)
    upstream_started = time.perf_counter()
    for models in await asyncio.gather(*(_upstream_models(company.pk, name, target) for name, target in targets)):
        data.extend(models)
    timing.upstream = time.perf_counter() - upstream_started
    return JsonResponse({"object": "list", "data": data})
