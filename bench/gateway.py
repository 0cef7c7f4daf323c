"""What the gateway costs: POST /api/chat/completions through daphne versus the upstream called directly.

Starts, all on 127.0.0.1: a fast fake OpenAI-compatible upstream (apps/chat/tests/upstream.py, in its own
process), the app under daphne (a fresh SQLite database on /dev/shm unless DATABASE_URL is set), a
company with a provider pointing at the upstream; then drives both with an aiohttp client at
concurrency 1, 10 and 100, stream and non-stream, and prints a table:

- direct / gateway p50 and p99 latency (whole answer), and the difference (what the gateway adds);
- the gateway's own X-Gateway-Overhead-Ms header, p50 and p99;
- time to first token (first SSE data line) for streams;
- requests per second, and gateway/direct ratios; failed requests (anything but a full 200 answer).

Every gateway request is a new chat: it is authenticated, the model resolved, the chat and messages
stored, the reply and usage saved. Client, server and upstream share the machine's cores.

    .venv/bin/python bench/gateway.py [--requests 1.0] [--concurrency 1,10,100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BASE_COUNTS = {1: 200, 10: 600, 100: 2000}
FAILURES: list[str] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_upstream(port: int) -> None:
    """The fake upstream, in this process (run as `gateway.py --serve-upstream PORT`)."""
    from aiohttp import web

    sys.path.insert(0, str(ROOT))
    from apps.chat.tests.upstream import FakeUpstream, build_app

    state = FakeUpstream()

    async def forget(app: web.Application) -> None:  # keep memory flat: the bench sends thousands
        while True:
            await asyncio.sleep(1)
            state.requests.clear()

    app = build_app(state)
    app.on_startup.append(lambda app: _start(forget(app)))
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=2048)


async def _start(coro: Any) -> None:
    asyncio.get_running_loop().create_task(coro)


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Sample:
    ok: bool
    total: float
    ttft: float | None = None
    overhead_header: float | None = None


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    cpu_ms: float = float("nan")

    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    def failed(self) -> int:
        return len(self.samples) - len(self.ok())

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    def latency(self, q: float) -> float:
        return self.pct([s.total for s in self.ok()], q)

    def ttft(self, q: float) -> float:
        return self.pct([s.ttft for s in self.ok() if s.ttft is not None], q)

    def header(self, q: float) -> float:
        return self.pct([s.overhead_header / 1000 for s in self.ok() if s.overhead_header is not None], q)

    def rps(self) -> float:
        return len(self.ok()) / self.wall if self.wall else 0.0


async def one(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str], stream: bool
) -> Sample:
    started = time.perf_counter()
    ttft = None
    try:
        async with session.post(url, json=body, headers=headers) as response:
            header = response.headers.get("X-Gateway-Overhead-Ms")
            if response.status != 200:
                FAILURES.append(f"{response.status} {(await response.read())[:200]!r}")
                return Sample(False, time.perf_counter() - started)
            if stream:
                done = False
                async for line in response.content:
                    if ttft is None and line.startswith(b"data: {"):
                        ttft = time.perf_counter() - started
                    if line.startswith(b"data: [DONE]"):
                        done = True
                    if b'"error"' in line:
                        return Sample(False, time.perf_counter() - started)
                ok = done
            else:
                data = await response.json()
                ok = bool(data.get("choices"))
            return Sample(ok, time.perf_counter() - started, ttft, float(header) if header else None)
    except (aiohttp.ClientError, TimeoutError):
        return Sample(False, time.perf_counter() - started)


async def drive(url: str, make_body: Any, headers: dict[str, str], stream: bool, concurrency: int, count: int) -> Run:
    run = Run()
    remaining = count
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(min(concurrency, 20)):  # warm the connections and the server
            await one(session, url, make_body(stream), headers, stream)

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                run.samples.append(await one(session, url, make_body(stream), headers, stream))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.wall = time.perf_counter() - started
    return run


def setup_gateway(env: dict[str, str], upstream_url: str) -> tuple[subprocess.Popen, str, str]:
    """Migrate, make a company and its provider, start daphne; (process, base url, bearer token)."""
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*manage, "bootstrap_company", "--name", "Bench", "--email", "bench@example.com", "--password",
         "Bench-Passw0rd!", "--reuse", "--plan", "ENTERPRISE_MONTHLY"],  # no monthly quota to run into
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    keys = json.loads(out)
    port = free_port()
    daphne = subprocess.Popen(
        [str(Path(PYTHON).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(Path(env["BENCH_DIR"]) / "daphne.log").open("w"),
    )  # fmt: skip
    wait_port(port)
    base = f"http://127.0.0.1:{port}"

    async def prepare() -> str:
        async with aiohttp.ClientSession() as session:
            pair = {"X-API-Key": keys["apikey"], "X-Enc-Key": keys["enckey"]}
            async with session.post(
                f"{base}/chat/llm-providers",
                json={"name": "bench", "api_endpoint": upstream_url, "api_key": "sk-bench-upstream-key"},
                headers=pair,
            ) as response:
                assert response.status in (201, 409), await response.text()
            if response.status == 409:  # a database kept from an earlier run: point it at this upstream
                async with session.get(f"{base}/chat/llm-providers", headers=pair) as listing:
                    bench = next(p for p in await listing.json() if p["name"] == "bench")
                patch = {"api_endpoint": upstream_url}
                async with session.patch(f"{base}/chat/llm-providers/{bench['id']}", json=patch, headers=pair) as r:
                    assert r.status == 200, await r.text()
            login = {"email": "bench@example.com", "password": "Bench-Passw0rd!"}
            async with session.post(f"{base}/api/v1/login", json=login) as response:
                return (await response.json())["token"]

    return daphne, base, asyncio.run(prepare())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=float, default=1.0, help="scale the request counts (1.0: 200/600/2000)")
    parser.add_argument("--concurrency", default="1,10,100")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return

    shm = Path("/dev/shm")  # noqa: S108 - a private directory made by mkdtemp, in memory so SQLite is not disk-bound
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-", dir=shm if shm.is_dir() else None))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "SQLITE_PATH": str(workdir / "bench.sqlite3"),
        "OUTBOUND_ALLOW_PRIVATE": "1",
        "GATEWAY_REQUESTS_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "BENCH_DIR": str(workdir),
    }
    upstream_port = free_port()
    upstream = subprocess.Popen([PYTHON, __file__, "--serve-upstream", str(upstream_port)], env=env)
    daphne = None
    try:
        wait_port(upstream_port)
        upstream_url = f"http://127.0.0.1:{upstream_port}"
        daphne, base, token = setup_gateway(env, upstream_url)
        auth = {"Authorization": f"Bearer {token}"}
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite (on /dev/shm)"
        print(f"gateway: daphne, 1 process, {database}; upstream: aiohttp fake on loopback; client: aiohttp\n")

        def direct_body(stream: bool) -> dict[str, Any]:
            return {"model": "echo", "stream": stream, "messages": [{"role": "user", "content": "Explain API"}]}

        def gateway_body(stream: bool) -> dict[str, Any]:
            ids = {"id": str(uuid.uuid4()), "chat_id": str(uuid.uuid4()), "session_id": "bench"}
            return {**ids, **direct_body(stream), "model": "bench.echo"}

        rows = []
        for stream in (False, True):
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                count = max(concurrency, int(BASE_COUNTS.get(concurrency, 500) * args.requests))
                direct = asyncio.run(
                    drive(f"{upstream_url}/v1/chat/completions", direct_body, {}, stream, concurrency, count)
                )
                cpu_before = process_cpu(daphne.pid)
                gateway = asyncio.run(
                    drive(f"{base}/api/chat/completions", gateway_body, auth, stream, concurrency, count)
                )
                gateway.cpu_ms = (process_cpu(daphne.pid) - cpu_before) * 1000 / max(1, len(gateway.samples) + 20)
                rows.append((stream, concurrency, count, direct, gateway))
        print_table(rows)
        if FAILURES:
            print(f"\nfailures ({len(FAILURES)}), first: {FAILURES[0]}; server log: {workdir / 'daphne.log'}")
    finally:
        for process in (daphne, upstream):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


def print_table(rows: list[tuple[bool, int, int, Run, Run]]) -> None:
    head = (
        "| mode | conc | requests | direct p50/p99 ms | gateway p50/p99 ms | added p50/p99 ms "
        "| X-Gateway-Overhead-Ms p50/p99 | TTFT direct/gateway p50 ms | RPS direct/gateway | RPS ratio "
        "| server CPU ms/request | failed |"
    )
    print(head)
    print("|" + "|".join("---" for _ in range(12)) + "|")
    for stream, concurrency, count, direct, gateway in rows:
        ttft = f"{direct.ttft(0.5):.1f} / {gateway.ttft(0.5):.1f}" if stream else "-"
        ratio = gateway.rps() / direct.rps() if direct.rps() else float("nan")
        print(
            f"| {'stream' if stream else 'non-stream'} | {concurrency} | {count} "
            f"| {direct.latency(0.5):.1f} / {direct.latency(0.99):.1f} "
            f"| {gateway.latency(0.5):.1f} / {gateway.latency(0.99):.1f} "
            f"| {gateway.latency(0.5) - direct.latency(0.5):.1f} / {gateway.latency(0.99) - direct.latency(0.99):.1f} "
            f"| {gateway.header(0.5):.2f} / {gateway.header(0.99):.2f} "
            f"| {ttft} | {direct.rps():.0f} / {gateway.rps():.0f} | {ratio:.2f} | {gateway.cpu_ms:.1f} "
            f"| {direct.failed()} / {gateway.failed()} |"
        )
    latencies = [gateway.latency(0.5) / max(direct.latency(0.5), 1e-9) for _, _, _, direct, gateway in rows]
    print(f"\ngateway/direct p50 latency ratio: {statistics.mean(latencies):.1f}x on average over the rows")


if __name__ == "__main__":
    main()
