"""The `http_request` operator: a request to a URL built from templates, through the guarded client."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings as django_settings

from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator
from apps.core import outbound
from apps.core.exceptions import ApplicationError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# Header values recorded in the run's history are masked for these names.
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key", "x-enc-key", "api-key")


def _masked(headers: dict[str, str]) -> dict[str, str]:
    return {name: ("***" if name.lower() in SECRET_HEADERS else value) for name, value in headers.items()}


class HttpRequestOperator(BuiltinOperator):
    type = "http_request"
    summary = (
        "Sends `method` (GET by default) to `url` with `headers` (an object) and `body` (a template string, or a "
        "JSON value sent as JSON); all are templates. Private and local addresses are refused unless "
        "OUTBOUND_ALLOW_PRIVATE is set. The output is `{status, headers, body}` (the body parsed when it is JSON). "
        "A status of 400 or more fails the operator unless `fail_on_status` is false."
    )
    required = ("url",)
    optional = ("method", "headers", "body", "fail_on_status")
    templated = ("url", "headers", "body")

    def check(self, settings: dict[str, Any]) -> None:
        if not isinstance(settings["url"], str) or not settings["url"].strip():
            raise ValueError("the setting 'url' must be a URL or a template of one")
        method = settings.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise ValueError(f"the setting 'method' must be one of {', '.join(METHODS)}")
        if "body" in settings and method.upper() in ("GET", "HEAD"):
            raise ValueError(f"a {method.upper()} request has no body; use POST, PUT, PATCH or DELETE")
        headers = settings.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("the setting 'headers' must be an object of strings")
        if not isinstance(settings.get("fail_on_status", True), bool):
            raise ValueError("the setting 'fail_on_status' must be true or false")

    def run(self, step: Step) -> Outcome:
        settings = step.settings
        method = str(settings.get("method", "GET")).upper()
        url = step.render_text(settings["url"]).strip()
        headers = {str(k): step.render_text(v) for k, v in (settings.get("headers") or {}).items()}
        body: bytes | None = None
        shown_body: Any = None
        if "body" in settings:
            raw = settings["body"]
            if isinstance(raw, str):
                shown_body = step.render_text(raw)
                body = shown_body.encode()
            else:
                shown_body = step.render(raw)
                body = json.dumps(shown_body).encode()
                if not any(name.lower() == "content-type" for name in headers):
                    headers["Content-Type"] = "application/json"
        used = {"method": method, "url": url, "headers": _masked(headers), "body": shown_body}
        timeout = step.remaining()
        if timeout <= 0:
            raise OperatorFailed("No time left for the request.", input=used)
        try:
            response = outbound.fetch(
                url,
                method=method,
                headers=headers,
                body=body,
                timeout=timeout,
                max_bytes=django_settings.AUTOMATION_HTTP_MAX_BYTES,
            )
        except ApplicationError as exc:
            raise OperatorFailed(exc.message, input=used) from exc
        text = response.text()
        parsed: Any = text
        if "json" in response.content_type.lower():
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
        output = {"status": response.status, "headers": dict(response.headers), "body": parsed}
        result = f"{method} {url} answered {response.status}."
        if response.status >= 400 and settings.get("fail_on_status", True):
            raise OperatorFailed(f"{method} {url} answered {response.status}.", input=used, output=output)
        return Outcome(output=output, result=result, input=used)
