"""The chat completions request body, checked by hand (a DRF serializer costs milliseconds on the hot path)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from apps.chat.completions import CompletionInput
from apps.core.api.parsers import NUL_MESSAGE, has_nul
from apps.core.exceptions import InvalidInput
from apps.core.ids import parse_uuid

REQUIRED = ("id", "chat_id", "session_id", "model", "stream", "messages")
ROLES = ("system", "user", "assistant")
# Where a parameter may come from: inside `params` (the spec) or at the top level (the OpenAI SDKs).
PARAM_RANGES: dict[str, tuple[float, float]] = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0)}
STORED_OPTIONS = ("params", "features", "tool_servers", "model_item", "variables", "stream_options")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body."""
    try:
        payload = json.loads(raw or b"null")
    except ValueError as exc:
        raise InvalidInput(f"Malformed request body: {exc}.") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("The request body must be a JSON object.")
    if has_nul(payload):
        raise InvalidInput(NUL_MESSAGE)
    return payload


def _uuid_field(payload: dict[str, Any], name: str) -> uuid.UUID:
    value = parse_uuid(payload[name])
    if value is None:
        raise InvalidInput(f"Invalid {name}: must be a UUID.")
    return value


def _messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidInput("Invalid messages: must be a non-empty array.")
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidInput(f"Invalid messages[{index}]: must be an object with role and content.")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InvalidInput(f"Invalid messages[{index}].role: must be one of {', '.join(ROLES)}.")
        if not isinstance(content, str | list):
            raise InvalidInput(f"Invalid messages[{index}].content: must be a string or an array of parts.")
        messages.append({"role": role, "content": content})
    return messages


def _params(payload: dict[str, Any]) -> dict[str, Any]:
    given = payload.get("params")
    if given is not None and not isinstance(given, dict):
        raise InvalidInput("Invalid params: must be an object.")
    merged = {key: payload[key] for key in ("temperature", "top_p", "max_tokens") if payload.get(key) is not None}
    merged.update({key: value for key, value in (given or {}).items() if value is not None})
    params: dict[str, Any] = {}
    for name, (low, high) in PARAM_RANGES.items():
        if name in merged:
            value = merged[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise InvalidInput(f"Invalid params.{name}: must be a number from {low} to {high}.")
            params[name] = value
    if "max_tokens" in merged:
        value = merged["max_tokens"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("Invalid params.max_tokens: must be a positive integer.")
        params["max_tokens"] = value
    return params


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"Invalid {name}: must be an object.")
    return value


def parse_completion(payload: dict[str, Any]) -> CompletionInput:
    """Check a chat completions body; errors name the first missing or wrong field."""
    missing = [name for name in REQUIRED if payload.get(name) in (None, "")]
    if missing:
        raise InvalidInput(f"Missing {', '.join(missing)}.", extra={"missing": missing})
    if not isinstance(payload["stream"], bool):
        raise InvalidInput("Invalid stream: must be true or false.")
    if not isinstance(payload["model"], str):
        raise InvalidInput("Invalid model: must be a string like provider.model-name.")
    if not isinstance(payload.get("tool_servers", []), list):
        raise InvalidInput("Invalid tool_servers: must be an array.")
    for name in ("features", "model_item", "variables", "stream_options"):
        _object(payload, name)
    variables = {str(key): str(value) for key, value in _object(payload, "variables").items()}
    return CompletionInput(
        message_id=_uuid_field(payload, "id"),
        chat_id=_uuid_field(payload, "chat_id"),
        session_id=str(payload["session_id"])[:200],
        model=payload["model"],
        stream=payload["stream"],
        messages=_messages(payload["messages"]),
        params=_params(payload),
        include_usage=bool(_object(payload, "stream_options").get("include_usage")),
        variables=variables,
        options={name: payload[name] for name in STORED_OPTIONS if name in payload},
    )
