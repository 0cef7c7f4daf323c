"""OpenAPI helpers: the envelope around each answer and the error shapes of each surface."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema as _SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers


class ErrorEnvelopeSerializer(serializers.Serializer):
    """`{"success": false, "error", "message"}`; validation errors add `fields`."""

    success = serializers.BooleanField(default=False)
    error = serializers.CharField()
    message = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # `fields` is a Serializer attribute, so this body key is added here rather than declared.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(required=False, help_text="Every invalid field with its errors.")
        return fields


class MessageEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=True)
    message = serializers.CharField()


_ERROR_TEXT = {
    400: "Invalid input; `error` names the field.",
    401: "Missing or invalid credentials.",
    402: "Payment declined; see `decline_code`.",
    403: "The caller's roles do not allow this.",
    404: "Unknown id, or an id of another company.",
    405: "Method not allowed.",
    409: "Conflicts with the current state.",
    413: "Request too large.",
    415: "Unsupported media type.",
    429: "Too many requests; see Retry-After.",
}


def envelope(name: str, **fields: serializers.Field) -> serializers.Serializer:
    """An inline success envelope: `success` plus the given fields."""
    return inline_serializer(name=name, fields={"success": serializers.BooleanField(default=True), **fields})


def toolbox_schema(
    *,
    summary: str,
    tags: list[str],
    request: Any = None,
    response: Any = MessageEnvelopeSerializer,
    errors: tuple[int, ...] = (400, 401, 403),
    status: int = 200,
    description: str = "",
    **kwargs: Any,
) -> Any:
    """extend_schema for a toolbox endpoint, its success envelope and its error envelopes."""
    responses: dict[int, Any] = {status: response}
    for code in errors:
        responses[code] = OpenApiResponse(ErrorEnvelopeSerializer, description=_ERROR_TEXT.get(code, ""))
    return extend_schema(
        summary=summary, tags=tags, request=request, responses=responses, description=description, **kwargs
    )


class AutoSchema(_SpectacularAutoSchema):
    """Gives the path form of an endpoint that also takes its id as a query parameter its own operationId."""

    def get_operation_id(self) -> str:
        operation_id = str(super().get_operation_id())
        params = re.findall(r"{(\w+)}", self.path)
        return operation_id + "".join(f"_by_{name}" for name in params) if params else operation_id
