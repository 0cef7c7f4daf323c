"""How long "may this company do this now?" takes: limit checks and usage counters, one call at a time.

    .venv/bin/python bench/billing.py                 # SQLite (a throwaway test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/symbient_bench .venv/bin/python bench/billing.py

Creates a test database, a company with users, and times each call N times (default 2000, BENCH_CALLS).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "2000"))


def timed(call: Callable[[], object], calls: int) -> list[float]:
    for _ in range(20):  # warm up
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from apps.accounts.models import Company, User
        from apps.billing.models import Plan
        from apps.billing.services.limits import limit_check, usage_consume, usage_record
        from apps.core.limits import INFERENCE_REQUESTS, MODELS, TOKENS, USERS, check_limit

        Plan.objects.filter(code="STANDARD_MONTHLY").update(max_inference_requests_per_month=None)
        company = Company.objects.create(name="Bench", plan="STANDARD_MONTHLY")
        for index in range(20):
            User.objects.create_user(f"u{index}@bench.test", "x", company=company, fname="B", lname="U")
        cases: list[tuple[str, Callable[[], object]]] = [
            ("limit_check models (caller counts)", lambda: limit_check(company=company, resource=MODELS, current=3)),
            ("limit_check users (counted)", lambda: limit_check(company=company, resource=USERS)),
            ("core check_limit users (hook)", lambda: check_limit(company, USERS)),
            ("limit_check inference (meter)", lambda: limit_check(company=company, resource=INFERENCE_REQUESTS)),
            ("usage_consume inference", lambda: usage_consume(company=company, resource=INFERENCE_REQUESTS)),
            ("usage_record tokens", lambda: usage_record(company=company, resource=TOKENS, amount=250)),
        ]
        print(f"database: {connection.vendor}, {CALLS} calls each, one at a time")
        print(f"{'operation':40} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'calls/s':>9}")
        for label, call in cases:
            samples = sorted(timed(call, CALLS))
            mean = statistics.fmean(samples)
            p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]
            print(f"{label:40} {mean * 1e3:8.3f} {p50 * 1e3:8.3f} {p99 * 1e3:8.3f} {1 / mean:9.0f}")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
