"""Plans and limits: the core hook, each kind of resource, monthly counters, and users created through accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.billing.models import Plan, UsageCounter
from apps.billing.services.limits import (
    ACTIVITY_LIMIT_MESSAGE,
    LimitExceeded,
    QuotaExhausted,
    UploadTooLarge,
    billing_limit_checker,
    limit_check,
    next_period_start,
    period_start,
    plan_get,
    usage_consume,
    usage_record,
    usage_summary,
    usage_used,
)
from apps.billing.services.membership import membership_grant
from apps.core import limits as core_limits
from apps.core.exceptions import ApplicationError
from apps.core.testing import assert_envelope_error, assert_ok

JAN = datetime(2030, 1, 15, 12, tzinfo=UTC)
FEB = datetime(2030, 2, 1, 0, tzinfo=UTC)
GROUP_SAVE = "/api/v1/toolbox/tools/chats/group/save"


def new_user(email: str) -> dict:
    return {
        "email": email,
        "fname": "New",
        "lname": "User",
        "password": "SecurePassword123",
        "password2": "SecurePassword123",
    }


# --- the core hook -----------------------------------------------------------------------------------------


def test_the_core_hook_asks_every_registered_checker(tenant):
    company = tenant.company
    calls = []

    def checker(company, resource, amount, current):
        calls.append((resource, amount, current))
        if amount > 2:
            raise ApplicationError("no")

    core_limits.register_limit_checker(checker)
    core_limits.register_limit_checker(checker)  # once only
    try:
        core_limits.check_limit(company, core_limits.MODELS, 2, current=1)
        with pytest.raises(ApplicationError, match="no"):
            core_limits.check_limit(company, core_limits.MODELS, 3, current=0)
        with pytest.raises(LimitExceeded):  # billing answers first
            core_limits.check_limit(company, core_limits.MODELS, 1, current=3)
        with pytest.raises(ValueError, match="Unknown limited resource"):
            core_limits.check_limit(company, "coffee")
    finally:
        core_limits.unregister_limit_checker(checker)
    core_limits.check_limit(company, core_limits.MODELS, 3, current=0)
    assert calls == [("models", 2, 1), ("models", 3, 0)]


def test_billing_is_registered_at_startup(tenant):
    assert billing_limit_checker in core_limits._checkers
    assert core_limits.current_usage(tenant.company, core_limits.USERS) == 3


# --- users, through accounts (which cannot import billing) ---------------------------------------------------


def test_creating_users_stops_at_the_plan_s_limit(tenant):
    limit = plan_get(code="NONE").max_users
    for index in range(limit - 3):
        UserFactory(company=tenant.company, email=f"filler{index}@acme.test")
    response = tenant.admin.client.post(GROUP_SAVE, new_user("one-too-many@acme.test"), format="json")
    body = assert_envelope_error(response, 403, f"allows at most {limit} active users")
    assert (body["resource"], body["limit"], body["plan"]) == ("users", limit, "NONE")
    assert not User.objects.filter(email="one-too-many@acme.test").exists()
    # Inactive users do not count, and reactivating one is checked like a new one.
    dormant = User.objects.get(email="filler0@acme.test")
    dormant.is_active = False
    dormant.save()
    assert_ok(tenant.admin.client.post(GROUP_SAVE, new_user("fits@acme.test"), format="json"))
    reactivate = {"userid": str(dormant.pk), "email": dormant.email, "fname": "A", "lname": "B", "isactive": True}
    assert_envelope_error(tenant.admin.client.post(GROUP_SAVE, reactivate, format="json"), 403, "active users")
    # A bigger plan lets more in.
    membership_grant(company=tenant.company, plan="STANDARD_MONTHLY")
    assert_ok(tenant.admin.client.post(GROUP_SAVE, new_user("after-upgrade@acme.test"), format="json"))


def test_unlimited_plans_have_no_user_limit(tenant):
    membership_grant(company=tenant.company, plan="ENTERPRISE_MONTHLY")
    for index in range(12):
        UserFactory(company=tenant.company, email=f"filler{index}@acme.test")
    assert_ok(tenant.admin.client.post(GROUP_SAVE, new_user("many@acme.test"), format="json"))


# --- gauges counted by the caller ----------------------------------------------------------------------------


def test_active_activities_answer_with_the_spec_s_message(tenant):
    limit = plan_get(code="NONE").max_active_activities
    limit_check(company=tenant.company, resource=core_limits.ACTIVE_ACTIVITIES, current=limit - 1)
    with pytest.raises(LimitExceeded) as caught:
        limit_check(company=tenant.company, resource=core_limits.ACTIVE_ACTIVITIES, current=limit)
    assert caught.value.status_code == 400
    assert caught.value.message == ACTIVITY_LIMIT_MESSAGE
    assert caught.value.extra["limit"] == limit


def test_models_limit_and_a_gauge_nobody_counts(tenant):
    with pytest.raises(LimitExceeded, match="allows at most 3 models") as caught:
        limit_check(company=tenant.company, resource=core_limits.MODELS, current=3)
    assert caught.value.status_code == 403
    with pytest.raises(ValueError, match="current="):
        limit_check(company=tenant.company, resource=core_limits.MODELS)


def test_an_edited_plan_takes_effect(tenant):
    Plan.objects.filter(code="NONE").update(max_models=None)
    limit_check(company=tenant.company, resource=core_limits.MODELS, current=10_000)


# --- meters: monthly counters ----------------------------------------------------------------------------------


def test_usage_counts_per_month_and_starts_again(tenant):
    assert period_start(JAN).isoformat() == "2030-01-01"
    assert next_period_start(JAN) == FEB
    assert next_period_start(datetime(2030, 12, 31, 23, tzinfo=UTC)) == datetime(2031, 1, 1, tzinfo=UTC)
    assert usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=150, now=JAN) == 150
    assert usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=50, now=JAN) == 200
    assert usage_used(company=tenant.company, resource=core_limits.TOKENS, now=JAN) == 200
    assert usage_used(company=tenant.company, resource=core_limits.TOKENS, now=FEB) == 0
    assert UsageCounter.objects.filter(company=tenant.company).count() == 1


def test_inference_quota_is_429_with_retry_after_until_next_month(tenant):
    limit = plan_get(code="NONE").max_inference_requests_per_month
    usage_record(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, amount=limit - 1, now=JAN)
    assert usage_consume(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=JAN) == limit
    with pytest.raises(QuotaExhausted) as caught:
        usage_consume(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=JAN)
    error = caught.value
    assert error.status_code == 429
    assert f"allows {limit:,} inference requests per month" in error.message
    assert "starts again on 2030-02-01" in error.message
    assert error.retry_after == int((FEB - JAN).total_seconds())
    assert error.extra["resets"] == "2030-02-01T00:00:00Z"
    assert usage_used(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=JAN) == limit
    with pytest.raises(QuotaExhausted):
        limit_check(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=JAN)
    # February: a fresh allowance.
    limit_check(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=FEB)
    assert usage_consume(company=tenant.company, resource=core_limits.INFERENCE_REQUESTS, now=FEB) == 1


def test_a_request_larger_than_what_is_left_is_refused_whole(tenant):
    limit = plan_get(code="NONE").max_tokens_per_month
    usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=limit - 10, now=JAN)
    with pytest.raises(QuotaExhausted, match="10 are left this month and this needs 11"):
        usage_consume(company=tenant.company, resource=core_limits.TOKENS, amount=11, now=JAN)
    assert usage_used(company=tenant.company, resource=core_limits.TOKENS, now=JAN) == limit - 10
    # What already happened is still counted, even past the limit.
    assert usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=25, now=JAN) == limit + 15


def test_transcription_is_limited_in_minutes(tenant):
    minutes = plan_get(code="NONE").max_transcription_minutes_per_month
    usage_consume(company=tenant.company, resource=core_limits.TRANSCRIPTION_SECONDS, amount=minutes * 60 - 30, now=JAN)
    with pytest.raises(QuotaExhausted, match=f"allows {minutes} transcription minutes per month; 1 are left"):
        limit_check(company=tenant.company, resource=core_limits.TRANSCRIPTION_SECONDS, amount=31, now=JAN)


def test_counters_are_per_company(tenant, outsider):
    usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=100, now=JAN)
    assert usage_used(company=outsider.company, resource=core_limits.TOKENS, now=JAN) == 0


def test_bad_amounts_and_resources_are_programming_errors(tenant):
    for amount in (-1, 1.5, True):
        with pytest.raises(ValueError, match="amount"):
            usage_record(company=tenant.company, resource=core_limits.TOKENS, amount=amount)
    with pytest.raises(ValueError, match="not a metered resource"):
        usage_record(company=tenant.company, resource=core_limits.USERS, amount=1)


# --- upload size ----------------------------------------------------------------------------------------------------


def test_upload_size(tenant):
    limit_mb = plan_get(code="NONE").max_upload_mb
    limit_check(company=tenant.company, resource=core_limits.UPLOAD_BYTES, amount=limit_mb * 1024 * 1024)
    with pytest.raises(UploadTooLarge, match=f"at most {limit_mb} MB") as caught:
        limit_check(company=tenant.company, resource=core_limits.UPLOAD_BYTES, amount=limit_mb * 1024 * 1024 + 1)
    assert caught.value.status_code == 413


# --- the summary the admin shows ---------------------------------------------------------------------------------


def test_usage_summary(tenant):
    usage_record(company=tenant.company, resource=core_limits.TRANSCRIPTION_SECONDS, amount=61)
    lines = {line.resource: line for line in usage_summary(company=tenant.company)}
    assert (lines["users"].used, lines["users"].limit) == (3, 10)
    assert lines["models"].used is None  # no app counts models yet
    assert (lines["transcription_seconds"].used, lines["transcription_seconds"].limit) == (2, 30)
    assert str(lines["users"]) == "active users: 3 / 10"


def test_a_missing_catalogue_row_is_restored(tenant):
    Plan.objects.all().delete()
    assert plan_get(code="PREMIUM_MONTHLY").price_cents == 4900
    assert plan_get(code="SOMETHING_ELSE").code == "NONE"
