"""A real OpenAI-compatible transcription server on 127.0.0.1: `POST /v1/audio/transcriptions`.

What it does is chosen by the model name: `error500` answers 500, `rejects` answers 400 with an
OpenAI error body, `plain` answers `{"text"}` only; any other name answers verbose_json with two
segments and word timings. Every request is recorded with its form fields and the uploaded file.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HEARD = "hello from the provider"


@dataclass
class Transcription:
    headers: dict[str, str]
    fields: dict[str, str]
    audio: bytes


@dataclass
class FakeTranscriber:
    url: str = ""
    requests: list[Transcription] = field(default_factory=list)


def _verbose(fields: dict[str, str]) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "language": "english",
        "duration": 2.0,
        "text": f"{HEARD} {fields.get('prompt', '')}".strip(),
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.0, "text": " hello from"},
            {"id": 1, "start": 1.0, "end": 2.0, "text": " the provider"},
        ],
        "words": [
            {"word": "hello", "start": 0.1, "end": 0.4},
            {"word": "from", "start": 0.5, "end": 0.9},
            {"word": "the", "start": 1.1, "end": 1.3},
            {"word": "provider", "start": 1.4, "end": 1.9},
        ],
    }


def build_app(state: FakeTranscriber) -> web.Application:
    async def transcriptions(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        audio = upload.file.read() if isinstance(upload, web.FileField) else b""
        fields = {key: str(value) for key, value in form.items() if key != "file"}
        state.requests.append(Transcription(dict(request.headers), fields, audio))
        model = fields.get("model", "")
        if model == "error500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if model == "rejects":
            return web.json_response({"error": {"message": "audio too short"}}, status=400)
        if model == "plain":
            return web.json_response({"text": HEARD})
        return web.json_response(_verbose(fields))

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes([web.post("/v1/audio/transcriptions", transcriptions)])
    return app


@contextmanager
def running_transcriber() -> Iterator[FakeTranscriber]:
    """The fake transcriber on a free loopback port, in a thread with its own event loop."""
    state = FakeTranscriber()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(state))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
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
