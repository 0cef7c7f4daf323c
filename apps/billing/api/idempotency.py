"""`Idempotency-Key` on billing POSTs: a retry with the same key gets the first answer, nothing runs twice."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.billing.services.idempotency import (
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from apps.core.api.views import request_data
from apps.core.exceptions import error_body, translate_exception

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID). A retry with the same key and body gets the first answer again "
        "(with `Idempotent-Replayed: true`) and charges nothing; the same key with another body is refused (409)."
    ),
)


def idempotent(scope: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Wrap a view's POST handler so that a request with an Idempotency-Key runs at most once."""

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return handler(view, request, *args, **kwargs)
            fingerprint = request_fingerprint(scope=scope, data=request_data(request))
            claim = idempotency_claim(company=view.company, key=key.strip(), scope=scope, fingerprint=fingerprint)
            if claim.record is None:
                replay = Response(claim.body, status=claim.status)
                replay["Idempotent-Replayed"] = "true"
                return replay
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:
                translated = translate_exception(exc)
                if translated is None or translated[0] >= 500:
                    idempotency_release(record=claim.record)  # unexpected: the client may try again
                    raise
                status, message, extra, _ = translated
                idempotency_complete(
                    record=claim.record, status=status, body=error_body("envelope", status, message, extra)
                )
                raise
            body = json.loads(JSONRenderer().render(response.data))
            idempotency_complete(record=claim.record, status=response.status_code, body=body)
            return response

        return wrapper

    return decorate
