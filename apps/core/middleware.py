"""Request ids, and JSON answers on API paths for what happens outside API views."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.exceptions import GENERIC_ERROR, error_body, translate_exception
from apps.core.logging import current_request_id
from apps.core.surfaces import error_style_for_path, is_api_path

logger = logging.getLogger("apps.api")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_STATUS_MESSAGES = {
    400: "Bad request.",
    403: "You do not have permission to access this function.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
}


class DualModeMiddleware:
    """A middleware that runs natively under WSGI and ASGI, so async views are not pushed into a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.handle(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return self.handle(request, await self.get_response(request))

    def handle(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response


class RequestIdMiddleware(DualModeMiddleware):
    """Gives each request an id (the client's `X-Request-Id` when it is sane) and returns it."""

    def __call__(self, request: HttpRequest) -> Any:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        if self.async_mode:
            return self._acall_with_id(request, request_id)
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response

    async def _acall_with_id(self, request: HttpRequest, request_id: str) -> HttpResponse:
        token = current_request_id.set(request_id)
        try:
            response = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response


class ApiErrorMiddleware(DualModeMiddleware):
    """On API paths, turns HTML error pages and unhandled exceptions into JSON in the path's dialect."""

    def __call__(self, request: HttpRequest) -> Any:
        refused = self.refuse_nul(request)
        if refused is None:
            return super().__call__(request)
        if self.async_mode:
            return self._answer(refused)
        return refused

    @staticmethod
    async def _answer(response: HttpResponse) -> HttpResponse:
        return response

    @staticmethod
    def refuse_nul(request: HttpRequest) -> HttpResponse | None:
        """A NUL in an API path or query (no database stores it in text) is bad input, answered before any view."""
        query = request.META.get("QUERY_STRING", "")
        if not is_api_path(request.path) or ("\x00" not in request.path and "%00" not in query):
            return None
        body = error_body(error_style_for_path(request.path), 400, "Text may not contain NUL (\\u0000) characters.")
        return JsonResponse(body, status=400)

    def handle(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not is_api_path(request.path) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        message = _STATUS_MESSAGES.get(status, GENERIC_ERROR if status >= 500 else "Request failed.")
        replacement = JsonResponse(error_body(error_style_for_path(request.path), status, message), status=status)
        if "Allow" in response:
            replacement["Allow"] = response["Allow"]
        return replacement

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        style = error_style_for_path(request.path)
        translated = translate_exception(exception)
        if translated is not None:
            status, message, extra, headers = translated
            response = JsonResponse(error_body(style, status, message, extra), status=status)
            for name, value in headers.items():
                response[name] = value
            return response
        request_id = getattr(request, "request_id", "-")
        logger.error("Unhandled error (request %s)", request_id, exc_info=exception)
        body = error_body(style, 500, GENERIC_ERROR, {"request_id": request_id})
        return HttpResponse(json.dumps(body), status=500, content_type="application/json")
