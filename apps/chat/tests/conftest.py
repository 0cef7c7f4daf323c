"""Fixtures of the gateway tests: a fake upstream and our app behind a real ASGI server, both on loopback."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from apps.chat.tests.upstream import FakeUpstream, running_asgi, running_upstream


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[FakeUpstream]:
    with running_upstream() as state:
        yield state


@pytest.fixture
def upstream(_upstream_server: FakeUpstream, settings: Any) -> Iterator[FakeUpstream]:
    """The fake OpenAI-compatible upstream, reset for each test; loopback allowed, retries quick."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.GATEWAY_RETRY_BACKOFF_SECONDS = 0.01
    _upstream_server.reset()
    yield _upstream_server


@pytest.fixture(scope="session")
def _asgi_server() -> Iterator[str]:
    from config.asgi import application

    with running_asgi(application) as url:
        yield url


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[Any]:
        """The SSE `data:` payloads, JSON-decoded except `[DONE]`."""
        out: list[Any] = []
        for line in self.body.decode().splitlines():
            if line.startswith("data: "):
                data = line[6:]
                out.append(data if data == "[DONE]" else json.loads(data))
        return out


class Live:
    """An HTTP client for our live server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def connection(self, timeout: float = 20) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        conn = self.connection()
        try:
            data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, body, headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, None, headers)


@pytest.fixture
def live(_asgi_server: str, transactional_db: Any) -> Live:
    """Our app behind uvicorn; tests using it see committed data (transactional_db)."""
    return Live(_asgi_server)


def bearer(member: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def completion_body(model: str, text: str = "Explain API", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """A request body as the spec's example has it, with fresh ids."""
    return {
        "id": str(uuid.uuid4()),
        "chat_id": str(uuid.uuid4()),
        "session_id": "mRiO2bEEkTnLsb8oAAPS",
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }
