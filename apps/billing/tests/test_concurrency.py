"""Parallel requests on PostgreSQL: counters never pass their limit, one key or one company never charges twice."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Thread
from typing import Any

import pytest
from django.db import connection

from apps.billing.models import Payment, Plan
from apps.billing.services.limits import (
    QuotaExhausted,
    plan_get,
    usage_add,
    usage_consume,
    usage_record,
    usage_used,
)
from apps.billing.tests.helpers import MEMBERSHIP_SAVE, card
from apps.core.limits import INFERENCE_REQUESTS, TOKENS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def in_parallel(call: Callable[[], Any], count: int = THREADS) -> list[Any]:
    """Run `call` in `count` threads released together; their results (or exceptions)."""
    barrier = Barrier(count)

    def run() -> Any:
        try:
            barrier.wait()
            return call()
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def test_parallel_consumers_never_pass_the_limit(tenant):
    plan_get(code="NONE")  # an earlier transactional test may have flushed the catalogue
    Plan.objects.filter(code="NONE").update(max_inference_requests_per_month=5)
    results = in_parallel(lambda: usage_consume(company=tenant.company, resource=INFERENCE_REQUESTS), count=12)
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2, 3, 4, 5]
    assert sum(isinstance(r, QuotaExhausted) for r in results) == 7
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 5


def test_parallel_retries_with_one_idempotency_key_charge_once(tenant):
    payload = {"plan": "STANDARD_MONTHLY", "method": "new", **card()}
    client = tenant.admin.client
    responses = in_parallel(lambda: client.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY="same"))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
    assert Payment.objects.count() == 1


def test_parallel_enrolments_of_one_company_charge_once(tenant):
    payload = {"plan": "STANDARD_MONTHLY", "method": "new", **card()}
    client = tenant.admin.client
    responses = in_parallel(lambda: client.post(MEMBERSHIP_SAVE, payload, format="json"), count=4)
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.content for r in responses]
    assert Payment.objects.count() == 1


def test_usage_add_counts_once_when_another_request_bumps_a_row_meanwhile(tenant):
    # The month's first request: its tokens row exists, its requests row does not yet. Right after its first
    # UPDATE, another request counts tokens on the same row (a separate connection, committed).
    usage_record(company=tenant.company, resource=TOKENS, amount=100)
    fired: list[str] = []

    def concurrent_bump(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not fired and sql.lstrip().upper().startswith("UPDATE") and "billing_usagecounter" in sql:
            fired.append(sql)
            other = Thread(target=lambda: (usage_record(company=tenant.company, resource=TOKENS, amount=5),
                                           connection.close()))  # fmt: skip
            other.start()
            other.join()
        return result

    with connection.execute_wrapper(concurrent_bump):
        usage_add(company=tenant.company, amounts={INFERENCE_REQUESTS: 1, TOKENS: 30})
    assert fired
    assert usage_used(company=tenant.company, resource=TOKENS) == 100 + 5 + 30
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 1
