"""What one daphne process does with chat sockets: connections held, round trips, token fan-out.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/symbient_bench REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/websocket.py [--connections 2000] [--rtt-connections 100] [--rounds 20]

Migrates, makes a company with `bootstrap_company`, starts `daphne config.asgi:application` (one
process; the company's connection limit raised for the run), then with the `websockets` client:

1. held: opens `--connections` sockets on one chat (50 at a time, each answered by
   `connection_established`), then sends every socket a ping at once and waits for every pong;
2. round trip with `--rtt-connections` sockets open: each sends `--rounds` pings one after the other
   (`{"type": "ping"}` → `pong`), and then a chat message each (`{"content"}` → `message_stream_ended`,
   the built-in model: stored user message, streamed reply, stored reply and usage);
3. token fan-out: every one of those sockets asks for a reply at once; tokens delivered per second
   across all of them, from the first send to the last `message_stream_ended`.

Client and server share the machine's cores. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def raise_open_files() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # daphne inherits it
    return wanted


async def receive(ws: ClientConnection, wanted: str, timeout: float = 60) -> tuple[dict[str, Any], int]:
    """Read until an event of type `wanted`; it and how many tokens came before it."""
    tokens = 0
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if event["type"] == "message_stream_token":
            tokens += 1
        elif event["type"] == "error":
            raise RuntimeError(f"error event: {event}")
        if event["type"] == wanted:
            return event, tokens


async def open_sockets(url: str, count: int, batch: int = 50) -> list[ClientConnection]:
    async def one() -> ClientConnection:
        ws = await connect(url, open_timeout=60, max_queue=None)
        await receive(ws, "connection_established")
        return ws

    sockets: list[ClientConnection] = []
    for start in range(0, count, batch):
        sockets += await asyncio.gather(*(one() for _ in range(min(batch, count - start))))
    return sockets


async def settled(url: str, timeout: float = 180) -> None:
    """Wait until the server answers a new socket's ping again (after a storm of disconnects)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with connect(url, open_timeout=5) as ws:
                await receive(ws, "connection_established", timeout=5)
                await ping(ws)
                return
        except (OSError, TimeoutError, RuntimeError, InvalidHandshake, ConnectionClosed):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def ping(ws: ClientConnection) -> float:
    started = time.perf_counter()
    await ws.send('{"type": "ping"}')
    await receive(ws, "pong")
    return time.perf_counter() - started


async def turn(ws: ClientConnection, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    await ws.send(json.dumps({"content": text}))
    _, tokens = await receive(ws, "message_stream_ended")
    return time.perf_counter() - started, tokens


async def measure(base: str, apikey: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    query = {"api_key": apikey, "user_id": "bench-user"}
    first = await connect(f"{base}/ws/chat?{urlencode(query)}", open_timeout=30)
    established, _ = await receive(first, "connection_established")
    chat_url = f"{base}/ws/chat?{urlencode({**query, 'chat_id': established['chat_id']})}"

    started = time.perf_counter()
    held = await open_sockets(chat_url, args.connections)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    pings = await asyncio.gather(*(ping(ws) for ws in held))
    all_pinged = time.perf_counter() - started
    rows += [
        ("connections held by one daphne", f"{len(held)}"),
        ("  opened per second", f"{len(held) / opened:.0f}"),
        ("  ping to all at once: last pong (ms)", f"{all_pinged * 1000:.0f}"),
        ("  ping to all at once: p50 / p99 (ms)", f"{ms(percentile(pings, 0.5))} / {ms(percentile(pings, 0.99))}"),
    ]
    started = time.perf_counter()
    await asyncio.gather(*(ws.close() for ws in held))
    await first.close()
    await settled(chat_url)
    rows.append(("  all close at once: server ready again after (s)", f"{time.perf_counter() - started:.1f}"))

    sockets = await asyncio.gather(
        *(
            open_sockets(f"{base}/ws/chat?{urlencode({'api_key': apikey, 'user_id': f'bench-{i}'})}", 1)
            for i in range(args.rtt_connections)
        )
    )
    open_now = [group[0] for group in sockets]

    async def pings_of(ws: ClientConnection) -> list[float]:
        return [await ping(ws) for _ in range(args.rounds)]

    rtts = [value for values in await asyncio.gather(*(pings_of(ws) for ws in open_now)) for value in values]
    rows.append(
        (
            f"ping round trip, {len(open_now)} open, p50 / p99 (ms)",
            f"{percentile(rtts, 0.5) * 1000:.1f} / {percentile(rtts, 0.99) * 1000:.1f}",
        )
    )

    started = time.perf_counter()
    turns = await asyncio.gather(*(turn(ws, "How does the benchmark measure a round trip?") for ws in open_now))
    elapsed = time.perf_counter() - started
    times = [seconds for seconds, _ in turns]
    tokens = sum(count for _, count in turns)
    rows += [
        (
            f"chat turn, {len(open_now)} at once, p50 / p99 (ms)",
            f"{percentile(times, 0.5) * 1000:.0f} / {percentile(times, 0.99) * 1000:.0f}",
        ),
        ("token fan-out: tokens delivered per second", f"{tokens / elapsed:.0f}"),
        ("  tokens per reply (built-in model)", f"{tokens / len(turns):.0f}"),
        ("  turns per second", f"{len(turns) / elapsed:.1f}"),
    ]
    single = [(await turn(open_now[0], "And one at a time?"))[0] for _ in range(args.rounds)]
    rows.append(("chat turn, one at a time, median (ms)", f"{statistics.median(single) * 1000:.1f}"))
    await asyncio.gather(*(ws.close() for ws in open_now))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rtt-connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL); REDIS_URL too for the channel layer and presence of a deployment.")
    files = raise_open_files()
    if files < args.connections * 2 + 100:
        sys.exit(f"Only {files} open files allowed; lower --connections.")

    from apps.chat.tests.daphne import running_daphne

    bench_dir = Path(tempfile.mkdtemp(prefix="bench-websocket-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "LOG_LEVEL": "WARNING",
        "CHAT_WS_MAX_CONNECTIONS_PER_COMPANY": str(args.connections + args.rtt_connections + 10),
        "CHAT_WS_MESSAGES_PER_SECOND": "1000",
        "GATEWAY_REQUESTS_PER_MINUTE": "0",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True, cwd=ROOT)
    out = subprocess.run(
        [*manage, "bootstrap_company", "--name", "Bench", "--email", "bench@example.com", "--password",
         "Bench-Passw0rd!", "--reuse"],
        env=env, check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    apikey = json.loads(out)["apikey"]
    # A busy shared machine can take more than daphne's default 5 s to accept a socket.
    options = ["--websocket_connect_timeout", "30"]
    with running_daphne(bench_dir / "daphne.log", env, cwd=ROOT, options=options) as server:
        rows = asyncio.run(measure(server.ws, apikey, args))
    layer = "channels-redis" if os.environ.get("REDIS_URL") else "in-memory channel layer"
    print(f"One daphne process, {layer}, PostgreSQL; client on the same machine ({os.cpu_count()} cores)")
    print(f"{'measure':<48}{'value':>16}")
    print("-" * 64)
    for name, value in rows:
        print(f"{name:<48}{value:>16}")


if __name__ == "__main__":
    main()
