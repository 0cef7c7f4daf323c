"""A real OpenAI-compatible server on 127.0.0.1 for tests and the benchmark, and a live ASGI server for ours.

The fake upstream speaks `POST /v1/chat/completions` (stream and not), `GET /v1/models`, and Azure's
`/openai/deployments/{name}/chat/completions`. What it does is chosen by the model name:

    echo (any other name)  answers "Echo: <last user message>", with usage, streamed in 3 chunks
    nousage      like echo, without usage
    slow         waits `delay` seconds before answering (timeouts)
    stall        sends one chunk, then stops sending (read timeout mid-stream)
    cut          sends two chunks, then drops the connection (a stream broken mid-way)
    long         streams a chunk every 20 ms for a long time (cancellation); logs "disconnected" when dropped
    flaky        answers 503 the first `failures` times, then like echo (retries)
    ratelimit    answers 429 with Retry-After
    error500     always answers 500
    badrequest   answers 400 with an OpenAI error body
    missing      answers 404 (unknown model)
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeUpstream:
    """The upstream's knobs and what it saw."""

    url: str = ""
    delay: float = 2.0
    failures: int = 2
    retry_after: str = "1"
    models: list[str] = field(default_factory=lambda: ["echo", "gpt-test"])
    requests: list[Recorded] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    flaky_seen: int = 0
    chunk_delay: float = 0.0

    def reset(self) -> None:
        self.requests.clear()
        self.events.clear()
        self.flaky_seen = 0
        self.delay, self.failures, self.retry_after, self.chunk_delay = 2.0, 2, "1", 0.0
        self.models = ["echo", "gpt-test"]


def _completion(model: str, text: str, usage: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{model}-2025",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return body


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": f"{model}-2025",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def build_app(state: FakeUpstream) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        state.requests.append(Recorded(request.path, dict(request.headers), body))
        model = request.match_info.get("deployment") or body.get("model", "")
        if model == "flaky":
            state.flaky_seen += 1
            if state.flaky_seen <= state.failures:
                return web.json_response({"error": {"message": "overloaded"}}, status=503)
        if model == "ratelimit":
            return web.json_response(
                {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": state.retry_after}
            )
        if model == "error500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if model == "badrequest":
            return web.json_response({"error": {"message": "max_tokens is too large", "type": "invalid"}}, status=400)
        if model == "missing":
            return web.json_response({"error": {"message": "The model does not exist"}}, status=404)
        if model == "slow":
            await asyncio.sleep(state.delay)
        text = f"Echo: {_last_user_text(body)}"
        usage = model != "nousage"
        if not body.get("stream"):
            return web.json_response(_completion(model, text, usage))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk(model, {"role": "assistant", "content": ""}))
        if model == "stall":
            await response.write(_chunk(model, {"content": "Echo"}))
            await asyncio.sleep(state.delay)
            return response
        if model == "cut":
            await response.write(_chunk(model, {"content": "Echo"}))
            await response.write(_chunk(model, {"content": ": par"}))
            await asyncio.sleep(0.05)  # let those bytes leave before the connection drops
            assert request.transport is not None
            request.transport.abort()  # drop the connection in the middle of the answer
            return response
        if model == "long":
            try:
                for index in range(2000):
                    await response.write(_chunk(model, {"content": f"w{index} "}))
                    await asyncio.sleep(0.02)
            except (ConnectionError, asyncio.CancelledError):
                state.events.append("disconnected")
                raise
            state.events.append("finished")
            return response
        pieces = [text[: len(text) // 3], text[len(text) // 3 : 2 * len(text) // 3], text[2 * len(text) // 3 :]]
        for piece in pieces:
            if state.chunk_delay:
                await asyncio.sleep(state.chunk_delay)
            await response.write(_chunk(model, {"content": piece}))
        await response.write(_chunk(model, {}, finish="stop"))
        options = body.get("stream_options") or {}
        if usage and options.get("include_usage"):
            usage_figures = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
            final = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [], "usage": usage_figures}
            await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        return response

    async def models(request: web.Request) -> web.Response:
        state.requests.append(Recorded(request.path, dict(request.headers), {}))
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in state.models]})

    app = web.Application()
    app.add_routes(
        [
            web.post("/v1/chat/completions", completions),
            web.get("/v1/models", models),
            web.post("/openai/deployments/{deployment}/chat/completions", completions),
            web.get("/openai/deployments", models),
        ]
    )
    return app


@contextmanager
def running_upstream(state: FakeUpstream | None = None) -> Iterator[FakeUpstream]:
    """The fake upstream on a free loopback port, in a thread with its own event loop."""
    state = state or FakeUpstream()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(state), handler_cancellation=False)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


@contextmanager
def running_asgi(application: Any) -> Iterator[str]:
    """Our ASGI application served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    from apps.models_registry.providers.engines import close_sessions

    server = uvicorn.Server(uvicorn.Config(application, log_level="warning", lifespan="off", access_log=False))
    loop = asyncio.new_event_loop()

    def serve() -> None:
        loop.run_until_complete(server.serve(sockets=[sock]))
        loop.run_until_complete(close_sessions())  # the gateway's pooled upstream session
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The ASGI server did not start.")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
