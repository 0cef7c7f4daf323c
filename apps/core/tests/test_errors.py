"""API error behaviour through the real URLconf: each surface's dialect, never HTML, never a leaked trace."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.core.exceptions import GENERIC_ERROR
from apps.core.surfaces import error_style_for_path, is_api_path
from apps.core.testing import PASSWORD, assert_detail_error, assert_envelope_error
from apps.core.tests.urls_crash import SECRET_TEXT

CRASH_URLS = "apps.core.tests.urls_crash"
FRESH_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def assert_json(response: Any) -> None:
    """An API answer is JSON, never an HTML page."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert b"<html" not in response.content.lower()


# --- Unknown paths --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/toolbox/tools/unknown", "/api/v1/login/"])
def test_unknown_toolbox_path_is_a_json_envelope_404(anon: APIClient, path: str) -> None:
    response = anon.get(path)
    assert_json(response)
    body = assert_envelope_error(response, 404, "not found")
    assert "detail" not in body


@pytest.mark.parametrize("path", ["/api/chat/nope", "/api/models/x", "/v1/chat/nope", "/api/v1/chats/abc/nope"])
def test_unknown_chat_and_gateway_path_is_a_json_detail_404(anon: APIClient, path: str) -> None:
    response = anon.get(path)
    assert_json(response)
    body = assert_detail_error(response, 404, "not found")
    assert "success" not in body


def test_unknown_page_outside_the_api_stays_html(anon: APIClient) -> None:
    response = anon.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# --- Bodies the login endpoint cannot read --------------------------------------------------


def test_malformed_json_is_a_400_naming_the_problem(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", data='{"email": "a@b.c", ', content_type="application/json")
    assert_json(response)
    body = assert_envelope_error(response, 400, "malformed request body")
    assert "json parse error" in body["error"].lower()


def test_json_array_body_is_refused(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", data='[{"email": "a@b.c", "password": "x"}]', content_type="application/json")
    assert_envelope_error(response, 400, "must be a JSON object")


@pytest.mark.parametrize("raw", ['"just a string"', "42", "true", "null"])
def test_json_scalar_body_is_refused(anon: APIClient, raw: str) -> None:
    response = anon.post("/api/v1/login", data=raw, content_type="application/json")
    assert_json(response)
    assert_envelope_error(response, 400, "must be a JSON object")


def test_wrong_method_is_a_405_envelope(anon: APIClient) -> None:
    response = anon.get("/api/v1/login")
    assert_json(response)
    assert_envelope_error(response, 405, "not allowed")
    assert "POST" in response["Allow"]


def test_wrong_method_on_a_plain_view_is_a_405_envelope_keeping_allow(anon: APIClient) -> None:
    response = anon.post("/healthz")
    assert_json(response)
    assert_envelope_error(response, 405, "method not allowed")
    assert response["Allow"] == "GET"


def test_text_body_is_a_415_envelope(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", data="email=a@b.c", content_type="text/plain")
    assert_json(response)
    body = assert_envelope_error(response, 415, "unsupported media type")
    assert "application/json" in body["error"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_body_over_the_upload_limit_is_a_413_envelope(anon: APIClient, settings: Any, content_type: str) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    if content_type == "application/json":
        raw = json.dumps({"email": "a@b.c", "password": "x" * 4096})
    else:
        raw = "email=a%40b.c&password=" + "x" * 4096
    response = anon.post("/api/v1/login", data=raw, content_type=content_type)
    assert_json(response)
    assert_envelope_error(response, 413, "too large")


@pytest.mark.urls(CRASH_URLS)
def test_body_over_the_upload_limit_on_a_plain_view_is_a_413_in_its_dialect(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(raise_request_exception=False)
    small = client.post("/api/chat/test/body", data="x" * 100, content_type="text/plain")
    assert small.status_code == 200 and small.json() == {"length": 100}
    response = client.post("/api/chat/test/body", data="x" * 4096, content_type="text/plain")
    assert_json(response)
    assert_detail_error(response, 413, "too large")


# --- Input that does not validate -----------------------------------------------------------


@pytest.mark.django_db
def test_missing_field_names_it_and_lists_fields(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", {"email": "someone@example.com"}, format="json")
    body = assert_envelope_error(response, 400)
    assert body["error"] == "Missing password."
    assert isinstance(body["fields"], dict)
    assert set(body["fields"]) == {"password"}
    assert body["fields"]["password"]


@pytest.mark.django_db
def test_empty_json_body_names_the_first_missing_field(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", data="", content_type="application/json")
    body = assert_envelope_error(response, 400)
    assert body["error"] == "Missing email."
    assert set(body["fields"]) == {"email", "password"}


@pytest.mark.django_db
def test_wrong_type_names_the_field(anon: APIClient) -> None:
    response = anon.post("/api/v1/login", {"email": ["a"], "password": PASSWORD}, format="json")
    body = assert_envelope_error(response, 400)
    assert body["error"].startswith("Invalid email:"), body
    assert "email" in body["fields"]
    assert "password" not in body["fields"]


# --- Unexpected exceptions ------------------------------------------------------------------


def _crash_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "apps.api"
        and r.exc_info
        and isinstance(r.exc_info[1], RuntimeError)
        and SECRET_TEXT in str(r.exc_info[1])
    ]


@pytest.mark.urls(CRASH_URLS)
@pytest.mark.parametrize(
    ("path", "style", "client_class"),
    [
        ("/api/v1/test/crash-drf", "envelope", APIClient),
        ("/api/v1/test/crash-plain", "envelope", Client),
        ("/api/chat/test/crash-drf", "detail", APIClient),
        ("/api/chat/test/crash-plain", "detail", Client),
        ("/v1/chat/test/crash-plain", "detail", Client),
    ],
)
def test_unexpected_exception_is_a_generic_500_with_the_request_id(
    caplog: pytest.LogCaptureFixture, path: str, style: str, client_class: type[Client]
) -> None:
    client = client_class(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apps.api"):
        response = client.get(path)

    assert_json(response)
    assert SECRET_TEXT.encode() not in response.content
    assert b"Traceback" not in response.content
    if style == "envelope":
        body = assert_envelope_error(response, 500)
        assert body["error"] == GENERIC_ERROR
        assert "detail" not in body
    else:
        body = assert_detail_error(response, 500)
        assert body["detail"] == GENERIC_ERROR
        assert "success" not in body
    request_id = response["X-Request-Id"]
    assert FRESH_REQUEST_ID.match(request_id)
    assert body["request_id"] == request_id

    records = _crash_records(caplog)
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert request_id in records[0].getMessage()


@pytest.mark.urls(CRASH_URLS)
@pytest.mark.parametrize("path", ["/api/v1/test/crash-drf", "/api/chat/test/crash-plain"])
def test_unexpected_exception_carries_the_clients_request_id(caplog: pytest.LogCaptureFixture, path: str) -> None:
    client = APIClient(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apps.api"):
        response = client.get(path, HTTP_X_REQUEST_ID="trace-42.abc_DEF")
    assert response.status_code == 500
    assert response["X-Request-Id"] == "trace-42.abc_DEF"
    assert response.json()["request_id"] == "trace-42.abc_DEF"
    records = _crash_records(caplog)
    assert records and "trace-42.abc_DEF" in records[0].getMessage()


@pytest.mark.urls(CRASH_URLS)
def test_unexpected_exception_outside_the_api_is_not_turned_into_json() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test/crash-page")
    assert response.status_code == 500
    assert not response["Content-Type"].startswith("application/json")
    assert SECRET_TEXT.encode() not in response.content


@pytest.mark.urls(CRASH_URLS)
@pytest.mark.parametrize(
    ("path", "status", "style", "contains"),
    [
        ("/api/chat/test/not-found", 404, "detail", "not found"),
        ("/api/chat/test/forbidden", 403, "detail", "permission"),
        ("/api/v1/test/conflict", 409, "envelope", "already closed"),
    ],
)
def test_expected_errors_of_plain_views_keep_their_status(
    caplog: pytest.LogCaptureFixture, path: str, status: int, style: str, contains: str
) -> None:
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apps.api"):
        response = client.get(path)
    assert_json(response)
    if style == "envelope":
        assert_envelope_error(response, status, contains)
    else:
        assert_detail_error(response, status, contains)
    assert not [r for r in caplog.records if r.name == "apps.api"], "an expected error was logged as unhandled"


# --- Request ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", ["abc-123", "req.2024_05_01-xyz", "A" * 64, "0"])
def test_sane_request_id_is_echoed(anon: APIClient, incoming: str) -> None:
    response = anon.get("/api/v1/nope", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-Id"] == incoming


@pytest.mark.parametrize("incoming", ["has spaces", "a" * 200, "A" * 65, "<script>", "id\r\nX-Evil: 1", "ümlaut", ""])
def test_insane_request_id_is_replaced_by_a_fresh_one(anon: APIClient, incoming: str) -> None:
    response = anon.get("/api/v1/nope", HTTP_X_REQUEST_ID=incoming)
    echoed = response["X-Request-Id"]
    assert echoed != incoming
    assert FRESH_REQUEST_ID.match(echoed), echoed


@pytest.mark.parametrize("incoming", ["abc\n", "trace-1\n"])
def test_request_id_with_a_trailing_newline_is_replaced(incoming: str) -> None:
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/nope", HTTP_X_REQUEST_ID=incoming)
    assert response.status_code == 404, response.status_code
    assert FRESH_REQUEST_ID.match(response["X-Request-Id"])


def test_request_id_is_fresh_for_each_request(anon: APIClient) -> None:
    first = anon.get("/api/v1/nope")["X-Request-Id"]
    second = anon.get("/api/v1/nope")["X-Request-Id"]
    assert FRESH_REQUEST_ID.match(first) and FRESH_REQUEST_ID.match(second)
    assert first != second


# --- Which dialect a path speaks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "api", "style"),
    [
        ("/api/v1/toolbox/tools/x", True, "envelope"),
        ("/api/v1/toolbox", True, "envelope"),
        ("/api/v1/login", True, "envelope"),
        ("/api/v1/users/me", True, "envelope"),
        ("/api/v1/chats/abc", True, "detail"),
        ("/api/v1/chats", True, "detail"),
        ("/api/v1/configs/1", True, "detail"),
        ("/api/v1/users/permissions", True, "detail"),
        ("/api/v1/knowledge/x", True, "detail"),
        ("/api/v1/tools", True, "detail"),
        ("/api/v1/prompts/abc", True, "detail"),
        ("/api/v1/toolsx", True, "envelope"),
        ("/api/models", True, "detail"),
        ("/api/chat/completions", True, "detail"),
        ("/api/membership/save", True, "envelope"),
        ("/v1/chat/stream", True, "detail"),
        ("/chat/conversations", True, "detail"),
        ("/healthz", True, "envelope"),
        ("/admin/", False, None),
        ("/chat/", False, None),
        ("/", False, None),
        ("/healthz/extra", False, None),
    ],
)
def test_surface_of_a_path(path: str, api: bool, style: str | None) -> None:
    assert is_api_path(path) is api
    if style is not None:
        assert error_style_for_path(path) == style
