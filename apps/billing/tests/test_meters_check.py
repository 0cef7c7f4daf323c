"""Several metered resources at once: meters_check (one plan read, one counter read) and usage_add (one UPDATE)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.billing.models import Plan, UsageCounter
from apps.billing.services.limits import QuotaExhausted, meters_check, plan_get, usage_add, usage_record, usage_used
from apps.core import limits as core_limits

JAN = datetime(2030, 1, 15, tzinfo=UTC)
FEB = datetime(2030, 2, 1, tzinfo=UTC)
BOTH = {core_limits.INFERENCE_REQUESTS: 1, core_limits.TOKENS: 1}


def test_each_resource_is_checked_against_this_months_counter(tenant, outsider, django_assert_num_queries):
    with django_assert_num_queries(2):
        meters_check(company=tenant.company, amounts=BOTH, now=JAN)
    tokens = plan_get(code="NONE").max_tokens_per_month
    usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=tokens, now=JAN)
    with pytest.raises(QuotaExhausted) as caught:
        meters_check(company=tenant.company, amounts=BOTH, now=JAN)
    assert caught.value.extra["resource"] == core_limits.TOKENS
    assert "0 are left this month and this needs 1" in caught.value.message
    meters_check(company=tenant.company, amounts={core_limits.INFERENCE_REQUESTS: 1}, now=JAN)
    meters_check(company=tenant.company, amounts=BOTH, now=FEB)  # a new month
    meters_check(company=outsider.company, amounts=BOTH, now=JAN)  # counters are per company


def test_unlimited_resources_read_no_counter(tenant, django_assert_num_queries):
    Plan.objects.filter(code="NONE").update(max_inference_requests_per_month=None, max_tokens_per_month=None)
    usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=10**9, now=JAN)
    with django_assert_num_queries(1):
        meters_check(company=tenant.company, amounts=BOTH, now=JAN)


def test_only_metered_resources(tenant):
    with pytest.raises(ValueError, match="not a metered resource"):
        meters_check(company=tenant.company, amounts={core_limits.UPLOAD_BYTES: 1})


def test_usage_add_counts_each_resource_and_makes_the_months_rows(tenant, outsider, django_assert_num_queries):
    usage_add(company=tenant.company, amounts={core_limits.INFERENCE_REQUESTS: 1, core_limits.TOKENS: 30}, now=JAN)
    usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=5, now=FEB)
    with django_assert_num_queries(1):
        usage_add(company=tenant.company, amounts={core_limits.INFERENCE_REQUESTS: 1, core_limits.TOKENS: 12}, now=JAN)
    usage_add(company=tenant.company, amounts={core_limits.INFERENCE_REQUESTS: 1, core_limits.TOKENS: 0}, now=FEB)
    used = {
        (row.resource, row.period_start.month): row.used for row in UsageCounter.objects.filter(company=tenant.company)
    }
    assert used == {
        ("inference_requests", 1): 2, ("tokens", 1): 42, ("tokens", 2): 5, ("inference_requests", 2): 1,
    }  # fmt: skip
    assert usage_used(company=outsider.company, resource=core_limits.TOKENS, now=JAN) == 0
    with pytest.raises(ValueError, match="not a metered resource"):
        usage_add(company=tenant.company, amounts={core_limits.UPLOAD_BYTES: 1})
