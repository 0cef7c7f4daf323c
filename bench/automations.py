"""Benchmark: automation runs through a real Celery worker on Redis, trigger to completion.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/symbient_bench REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/automations.py [--runs 1000] [--concurrency 2] [--pool prefork]

Migrates the database, creates a company and an active automation whose flow is
transform → condition → transform, starts `celery -A config worker` on a queue of its own, then
POSTs to the automation's trigger URL `--runs` times (through Django's test client, so the view,
the service and the enqueue are all measured) and waits until every run has ended. Latency is a
run's `ended_at - started_at` (started is set when the trigger is accepted); throughput is runs
per second from the first trigger to the last completion. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("AUTOMATION_TRIGGER_RATE", "")  # the benchmark triggers one URL as fast as it can

FLOW = {
    "nodes": [
        {
            "id": "shape",
            "type": "transform",
            "settings": {"value": {"total": "{{ input.total }}", "id": "{{ input.id }}"}},
        },
        {"id": "big", "type": "condition", "settings": {"expression": "results.shape.total > 100"}},
        {"id": "tag", "type": "transform", "settings": {"value": "order {{ results.shape.id }} is big"}},
    ],
    "edges": [{"from": "shape", "to": "big"}, {"from": "big", "to": "tag", "when": "true"}],
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--prefetch", type=int, default=0, help="worker --prefetch-multiplier (0: the setting's)")
    parser.add_argument(
        "--mode",
        default="live",
        choices=["live", "backlog"],
        help="live: trigger while the worker runs; backlog: trigger everything first, then start the worker",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark needs a real worker on Redis.")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.services.users import company_create
    from apps.automations.models import AutomationRun
    from apps.automations.services.automations import automation_save, trigger_secret
    from config.celery import app

    call_command("migrate", verbosity=0)
    company = company_create(name=f"Bench {uuid.uuid4().hex[:6]}")
    automation = automation_save(company=company, actor=None, name="Bench flow", flow=FLOW, is_active=True)
    url = f"/api/v1/automations/trigger/{trigger_secret(automation)}"

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    log_path = ROOT / "var" / "bench-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={args.pool}",
        f"--concurrency={args.concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", queue, "--loglevel=WARNING",
    ]  # fmt: skip
    if args.prefetch:
        command.append(f"--prefetch-multiplier={args.prefetch}")
    client = Client()

    def trigger(index: int) -> str:
        response = client.post(url, {"total": 150 + index, "id": index}, content_type="application/json")
        assert response.status_code == 202, response.content
        return str(response.json()["runid"])

    def wait_until_done(ids: list[str], worker: subprocess.Popen) -> None:
        pending = AutomationRun.objects.filter(pk__in=ids, status="Running")
        deadline = time.monotonic() + 1800
        while pending.exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"The worker stopped or stalled; see {log_path}")
            time.sleep(0.05)

    ids: list[str] = []
    if args.mode == "backlog":
        ids = [trigger(index) for index in range(args.runs)]
    with log_path.open("w") as log:
        worker = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        if args.mode == "live":
            warm = [trigger(-1)]
            wait_until_done(warm, worker)
            started = time.monotonic()
            ids = [trigger(index) for index in range(args.runs)]
        triggered = time.monotonic() - started
        wait_until_done(ids, worker)
        finished = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    rows = list(AutomationRun.objects.filter(pk__in=ids).values_list("status", "started_at", "ended_at"))
    failed = sum(1 for status, _, _ in rows if status != "Completed")
    ends = sorted(ended for _, _, ended in rows)
    drain = (len(ends) - 1) / max((ends[-1] - ends[0]).total_seconds(), 1e-9)
    latencies = [(ended - begun).total_seconds() * 1000 for _, begun, ended in rows]
    print(
        f"automation runs: {args.runs} x transform → condition → transform, mode {args.mode}, "
        f"worker --pool={args.pool} --concurrency={args.concurrency} "
        f"--prefetch-multiplier={args.prefetch or settings.CELERY_WORKER_PREFETCH_MULTIPLIER}, {os.cpu_count()} CPUs"
    )
    print(f"{'measure':<36}{'value':>12}")
    print("-" * 48)
    measures = [("runs completed / failed", f"{len(rows) - failed} / {failed}")]
    if args.mode == "live":
        measures += [
            ("triggers accepted per second", f"{args.runs / triggered:.0f}"),
            ("runs completed per second", f"{args.runs / finished:.0f}"),
            ("trigger → completion p50 (ms)", f"{statistics.median(latencies):.0f}"),
            ("trigger → completion p99 (ms)", f"{percentile(latencies, 0.99):.0f}"),
        ]
    else:
        measures += [("runs completed per second (worker)", f"{drain:.0f}")]
    for name, value in measures:
        print(f"{name:<36}{value:>12}")


if __name__ == "__main__":
    main()
