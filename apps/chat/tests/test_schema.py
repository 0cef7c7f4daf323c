"""The gateway's async views are in the OpenAPI document, with their shapes."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command


def test_the_schema_lists_the_async_gateway_views():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    completions = schema["paths"]["/api/chat/completions"]["post"]
    body = completions["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    required = schema["components"]["schemas"][body]["required"]
    assert required == ["id", "chat_id", "session_id", "model", "stream", "messages"]
    answers = completions["responses"]
    assert set(answers["200"]["content"]) == {"application/json", "text/event-stream"}
    assert {"400", "401", "403", "404", "429", "502", "504"} <= set(answers)
    assert answers["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DetailError"}
    assert "X-Gateway-Overhead-Ms" in answers["200"]["headers"]
    models = schema["paths"]["/api/models"]["get"]
    assert models["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ModelList")
    for path in ("/api/v1/knowledge", "/api/v1/knowledge/upload", "/api/v1/tools", "/api/config"):
        assert path in schema["paths"], path
    assert {"BearerAuth": []} in completions["security"]
