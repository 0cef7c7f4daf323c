"""Project-wide checks: migrations complete, the OpenAPI schema generates, the docs page serves."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


@pytest.mark.django_db
def test_openapi_schema_generates_and_validates(anon) -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    import json

    schema = json.loads(out.getvalue())
    paths = schema["paths"]
    for path in ("/api/v1/login", "/api/v1/users/me", "/api/v1/toolbox/tools/chats/group/save"):
        assert path in paths, path
    login = paths["/api/v1/login"]["post"]
    assert "LoginInput" in str(login["requestBody"])
    assert {"BearerAuth", "ApiKey", "EncKey"} <= set(schema["components"]["securitySchemes"])
    group_get = paths["/api/v1/toolbox/tools/chats/group/get"]["get"]
    assert "403" in group_get["responses"]


@pytest.mark.django_db
def test_schema_and_docs_are_served(anon) -> None:
    assert anon.get("/api/schema/").status_code == 200
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn.jsdelivr" not in docs.content  # served from our static files, no outside network
