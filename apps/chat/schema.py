"""OpenAPI description of the gateway: its authentication (a Bearer JWT, the key pair, or the cookie) and its
async views, added by a postprocessing hook."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class GatewayScheme(OpenApiAuthenticationExtension):
    target_class = "apps.chat.api.auth.GatewayAuthentication"
    name = "TokenCookie"

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        return [{"BearerAuth": []}, {"ApiKey": [], "EncKey": []}, {"TokenCookie": []}]

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "token",
            "description": "A browser session's JWT; writes then need X-CSRF-Token from /api/v1/configs/csrf-token.",
        }


class TenantApiKeyScheme(OpenApiAuthenticationExtension):
    """The tenant chat API: the company's `X-API-Key` alone (the same scheme as the key pair's first half)."""

    target_class = "apps.accounts.authentication.ApiKeyOnlyAuthentication"
    name = "TenantApiKey"

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"TenantApiKey": []}

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The company's API key."}


# --- the async gateway views, which drf-spectacular does not see (they are not DRF views) ---------------------

_SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}, {"ApiKey": [], "EncKey": []}, {"TokenCookie": []}]
_DETAIL = {"$ref": "#/components/schemas/DetailError"}
_OVERHEAD = {
    "X-Gateway-Overhead-Ms": {
        "description": "Milliseconds the gateway itself added (for a stream: up to its first chunk).",
        "schema": {"type": "string"},
    }
}
_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "user", "assistant"]},
        "content": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "additionalProperties": {}}}],
            "description": "Text, or OpenAI's array of parts.",
        },
    },
}
_USAGE = {
    "type": "object",
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
    },
}
_ANY = {"type": "object", "additionalProperties": {}}
COMPONENTS: dict[str, dict[str, Any]] = {
    "ChatCompletionRequest": {
        "type": "object",
        "required": ["id", "chat_id", "session_id", "model", "stream", "messages"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The id of the reply message."},
            "chat_id": {"type": "string", "format": "uuid", "description": "The chat; created on first use."},
            "session_id": {"type": "string"},
            "model": {
                "type": "string",
                "description": "An id from GET /api/models: `provider.model`, `builtin.assistant` or `model.<uuid>`.",
            },
            "stream": {"type": "boolean"},
            "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
            "params": {
                "type": "object",
                "properties": {
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
                    "max_tokens": {"type": "integer", "minimum": 1},
                },
            },
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
            "variables": {"type": "object", "additionalProperties": {"type": "string"}},
            "features": _ANY,
            "tool_servers": {"type": "array", "items": {}},
            "model_item": _ANY,
        },
    },
    "ChatCompletion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"type": "string", "enum": ["chat.completion"]},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "message": _MESSAGE,
                        "finish_reason": {"type": "string", "nullable": True},
                    },
                },
            },
            "usage": _USAGE,
        },
    },
    "ModelList": {
        "type": "object",
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "object": {"type": "string", "enum": ["model"]},
                        "created": {"type": "integer"},
                        "owned_by": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
            },
        },
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "", "content": {"application/json": {"schema": _DETAIL}}, "headers": _OVERHEAD}
        for code in codes
    }


GATEWAY_PATHS: dict[str, dict[str, Any]] = {
    "/api/chat/completions": {
        "post": {
            "operationId": "api_chat_completions_create",
            "summary": "Chat completion (OpenAI-compatible), whole or streamed",
            "description": (
                "`stream: false` answers a `chat.completion` with `usage`. `stream: true` answers Server-Sent "
                "Events: `data: {chat.completion.chunk}` lines, a usage chunk when `stream_options.include_usage` "
                'is set, then `data: [DONE]`; a stream that breaks mid-way ends with `data: {"error": ...}`. The '
                "conversation is saved under `chat_id`, the reply under `id`. `X-Enterprise-Id`, when sent, must "
                "be the caller's company; cookie sessions need `X-CSRF-Token`."
            ),
            "tags": ["Gateway"],
            "security": _SECURITY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}},
            },
            "responses": {
                "200": {
                    "description": "A chat.completion, or its chunks as Server-Sent Events.",
                    "headers": _OVERHEAD,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                        "text/event-stream": {"schema": {"type": "string"}},
                    },
                },
                **_errors(400, 401, 403, 404, 409, 413, 429, 502, 504),
            },
        }
    },
    "/api/models": {
        "get": {
            "operationId": "api_models_list",
            "summary": "The models the caller may use (OpenAI list shape)",
            "description": (
                "Built-in models, the company's deployed llm models (`model.<uuid>`) and each provider's "
                "upstream models (`provider.model`); a provider that does not answer contributes none."
            ),
            "tags": ["Gateway"],
            "security": _SECURITY,
            "responses": {
                "200": {
                    "description": "",
                    "headers": _OVERHEAD,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}},
                },
                **_errors(401, 403),
            },
        }
    },
}


def add_gateway_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the async gateway views, with their request and answer shapes."""
    result.setdefault("paths", {}).update(GATEWAY_PATHS)
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    return result
