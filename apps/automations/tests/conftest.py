"""Fixtures for automation tests: a local HTTP server, and helpers to save flows and start runs."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from apps.automations.models import Automation, AutomationRun
from apps.automations.services.automations import automation_save
from apps.core.testing import assert_ok

SAVE = "/api/v1/toolbox/tools/automation/save"
TEST = "/api/v1/toolbox/tools/automation/test"


@dataclass
class EchoServer:
    """A real HTTP server on 127.0.0.1 that records what it received."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # served at /files/<name>


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer(url="")

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        server.received.append(
            {"method": request.method, "path": request.path, "headers": dict(request.headers), "body": body}
        )
        return web.json_response({"method": request.method, "query": dict(request.query), "body": body})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"error": "nope"}, status=int(request.match_info["code"]))

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="plain words")

    async def files(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in server.files:
            return web.Response(status=404, text="no such file")
        return web.Response(body=server.files[name], content_type="application/octet-stream")

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.add_routes(
        [
            web.route("*", "/echo", echo),
            web.get("/status/{code}", status),
            web.get("/slow", slow),
            web.get("/text", text),
            web.get("/files/{name}", files),
        ]
    )
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def make_automation(
    company: Any, flow: dict[str, Any], *, active: bool = True, name: str = "Flow", **kw: Any
) -> Automation:
    """An automation saved through the service, with a checked flow."""
    return automation_save(company=company, actor=None, name=name, flow=flow, is_active=active, **kw)


def start_test_run(client: Any, automation: Automation, capture: Any, input: Any = None) -> AutomationRun:
    """automation/test through the API; with jobs in-process the run has ended when this returns."""
    payload: dict[str, Any] = {"automationid": str(automation.pk)}
    if input is not None:
        payload["input"] = input
    with capture(execute=True):
        body = assert_ok(client.post(TEST, payload, format="json"))
    assert body["message"] == "Automation test submitted successfully."
    return AutomationRun.objects.get(pk=body["runid"])


def node(node_id: str, op_type: str, **settings: Any) -> dict[str, Any]:
    extra = {k: settings.pop(k) for k in ("timeout", "continue_on_error", "name", "description") if k in settings}
    return {"id": node_id, "type": op_type, "settings": settings, **extra}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A flow whose nodes run one after the other."""
    edges = [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(nodes)]
    return {"nodes": list(nodes), "edges": edges}


def entries(run: AutomationRun) -> dict[str, dict[str, Any]]:
    run.refresh_from_db()
    return {entry["node"]: entry for entry in run.operator_history}


__all__ = ["EchoServer", "chain", "entries", "json", "make_automation", "node", "start_test_run"]
