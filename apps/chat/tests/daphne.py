"""Real daphne processes for the socket tests and the benchmark, and a small socket client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Daphne:
    """One `daphne config.asgi:application` process on a loopback port."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@contextmanager
def running_daphne(
    log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None, options: list[str] | None = None
) -> Iterator[Daphne]:
    """Start daphne with the given environment (settings, database, Redis); stop it at the end."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *(options or [])]
    command.append("config.asgi:application")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=cwd
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield Daphne(port, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


class Socket:
    """A `websockets` client connection that reads our JSON events."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, body: Any) -> None:
        self.connection.send(body if isinstance(body, str) else json.dumps(body))

    def event(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(self.connection.recv(timeout=timeout))

    def until(self, event_type: str, timeout: float = 20) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read events until one of `event_type`; it and every event read on the way (itself included)."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.event(timeout=max(0.01, deadline - time.monotonic()))
            seen.append(event)
            if event.get("type") == event_type:
                return event, seen

    def closed(self, timeout: float = 10) -> tuple[int | None, str, list[dict[str, Any]]]:
        """Read until the server closes; the close code, reason, and the events read on the way."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                seen.append(json.loads(self.connection.recv(timeout=max(0.01, deadline - time.monotonic()))))
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code if frame else None), (frame.reason if frame else ""), seen

    def close(self) -> None:
        self.connection.close()


def open_socket(base: str, path: str, subprotocols: list[str] | None = None, **params: Any) -> Socket:
    url = f"{base}{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"
    connection = connect(url, subprotocols=subprotocols, open_timeout=10, legacy=True)  # type: ignore[arg-type,call-overload]
    return Socket(connection)
