"""One error hierarchy for services, and the one handler that answers it in each surface's format."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger("apps.api")

GENERIC_ERROR = "An unexpected error occurred. It has been logged; quote the request id when you report it."


class ApplicationError(Exception):
    """An expected failure with a message fit for the client and an HTTP status."""

    status_code = 400
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    """The request's data is missing or wrong."""

    status_code = 400
    default_message = "Invalid input."


class NotAuthenticated(ApplicationError):
    """No valid credentials."""

    status_code = 401
    default_message = "Missing or invalid token."


class PermissionDenied(ApplicationError):
    """Authenticated, but not allowed."""

    status_code = 403
    default_message = "You do not have permission to access this function."


class NotFound(ApplicationError):
    """Unknown id, or an id of another company (answered alike)."""

    status_code = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    """The request conflicts with the current state."""

    status_code = 409
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(ApplicationError):
    """The request body or an uploaded file is over the limit."""

    status_code = 413
    default_message = "The request is too large."


class UnsupportedMediaType(ApplicationError):
    """The request body is not of a type this endpoint takes."""

    status_code = 415
    default_message = "Unsupported media type."


class RateLimited(ApplicationError):
    """Too many requests; `retry_after` seconds until the next may pass."""

    status_code = 429
    default_message = "Too many requests. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServiceUnavailable(ApplicationError):
    """A dependency is down."""

    status_code = 503
    default_message = "The service is temporarily unavailable."


def error_body(style: str, status: int, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of an error answer in the given surface style: `envelope` or `detail`."""
    if style == "detail":
        return {"detail": message, **(extra or {})}
    return {"success": False, "error": message, "message": message, **(extra or {})}


def _flatten_validation(detail: Any) -> tuple[str, dict[str, Any]]:
    """Turn DRF's nested validation errors into one sentence naming the first field, plus all of them."""
    if isinstance(detail, list):
        first = detail[0] if detail else "Invalid input."
        if isinstance(first, dict | list):
            return _flatten_validation(first)
        return str(first), {}
    if not isinstance(detail, dict):
        return str(detail), {}
    fields: dict[str, Any] = {}
    message = "Invalid input."
    for index, (field, errors) in enumerate(detail.items()):
        sub_message, _ = _flatten_validation(errors)
        fields[field] = [str(e) for e in errors] if isinstance(errors, list) else errors
        if index == 0:
            code = getattr(errors[0], "code", None) if isinstance(errors, list) and errors else None
            if field in ("non_field_errors", "detail"):
                message = sub_message
            elif code in ("required", "null", "blank"):
                message = f"Missing {field}."
            else:
                message = f"Invalid {field}: {sub_message}"
    return message, {"fields": fields}


def translate_exception(exc: Exception) -> tuple[int, str, dict[str, Any], dict[str, str]] | None:
    """(status, message, extra body, headers) for an exception we answer for; None for an unexpected one."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return exc.status_code, exc.message, exc.extra, headers
    if isinstance(exc, drf.ValidationError):
        message, extra = _flatten_validation(exc.detail)
        return 400, message, extra, headers
    if isinstance(exc, drf.ParseError):
        return 400, f"Malformed request body: {exc.detail}", {}, headers
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, str(exc.detail), {}, headers
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return 403, PermissionDenied.default_message, {}, headers
    if isinstance(exc, drf.NotFound | Http404):
        return 404, NotFound.default_message, {}, headers
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, str(exc.detail), {}, headers
    if isinstance(exc, drf.UnsupportedMediaType):
        return 415, f"{exc.detail} Send application/json.", {}, headers
    if isinstance(exc, drf.Throttled):
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        return 429, RateLimited.default_message, {}, headers
    if isinstance(exc, RequestDataTooBig):
        return 413, "The request body is too large.", {}, headers
    if isinstance(exc, TooManyFieldsSent):
        return 400, "Too many fields in the request.", {}, headers
    if isinstance(exc, drf.APIException):
        return exc.status_code, str(exc.detail), {}, headers
    return None


def response_style(view: Any) -> str:
    return getattr(view, "error_style", "envelope")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler: every error of an API view in that view's surface format."""
    request = context.get("request")
    style = response_style(context.get("view"))
    translated = translate_exception(exc)
    if translated is None:  # anything we do not expect: log it with the request id, answer generically
        request_id = getattr(getattr(request, "_request", request), "request_id", "-")
        logger.error("Unhandled error in API view (request %s)", request_id, exc_info=exc)
        return Response(error_body(style, 500, GENERIC_ERROR, {"request_id": request_id}), status=500)
    status, message, extra, headers = translated
    response = Response(error_body(style, status, message, extra), status=status, headers=headers)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
