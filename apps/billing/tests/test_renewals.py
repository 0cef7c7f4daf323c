"""Renewals with a clock the test controls: charge when due, retry declines on the schedule, fall back to NONE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings

from apps.accounts.models import Company
from apps.billing.models import Membership, Payment
from apps.billing.services.renewals import memberships_renew_due
from apps.billing.tasks import renew_due_memberships
from apps.billing.tests.helpers import (
    CHARGE_DECLINED,
    DEFAULT_METHOD,
    DELETE_METHOD,
    MEMBERSHIP_STOP,
    PAYMENTS,
    enrol,
    save_method,
)
from apps.core.testing import assert_ok, wait_for


def membership_of(tenant) -> Membership:
    return Membership.objects.get(company=tenant.company)


def plan_of(tenant) -> str:
    return Company.objects.get(pk=tenant.company.pk).plan


def switch_to_a_card_that_declines(tenant) -> None:
    """The membership's renewals now go to a card whose every charge is declined."""
    declining = save_method(tenant, CHARGE_DECLINED)
    assert_ok(tenant.admin.client.post(DEFAULT_METHOD, {"methodid": declining}, format="json"))


def test_nothing_is_due_before_the_period_ends(tenant):
    enrol(tenant)
    end = membership_of(tenant).period_end
    assert memberships_renew_due(now=end - timedelta(seconds=1)).outcomes == {}
    assert Payment.objects.count() == 1


def test_a_due_membership_is_charged_and_renewed(tenant):
    enrol(tenant)
    first_end = membership_of(tenant).period_end
    now = first_end + timedelta(hours=3)
    assert memberships_renew_due(now=now).outcomes == {"renewed": 1}
    membership = membership_of(tenant)
    assert membership.status == Membership.STATUS_ACTIVE
    assert membership.period_start == first_end  # the anchor is kept: no days lost or given
    assert membership.period_end > first_end + timedelta(days=27)
    renewal = Payment.objects.get(kind=Payment.KIND_RENEWAL)
    assert (renewal.status, renewal.amount_cents, renewal.plan_code) == ("Succeeded", 1000, "STANDARD_MONTHLY")
    assert renewal.next_date == membership.period_end
    assert [entry["status"] for entry in renewal.history] == ["Succeeded"]
    # Running again at the same moment charges nothing more.
    assert memberships_renew_due(now=now).outcomes == {}
    assert Payment.objects.filter(kind=Payment.KIND_RENEWAL).count() == 1
    assert plan_of(tenant) == "STANDARD_MONTHLY"


def test_declines_are_retried_on_the_schedule_then_fall_back_to_none(tenant, settings):
    settings.BILLING_RETRY_DAYS = [1, 3, 5]
    enrol(tenant)
    switch_to_a_card_that_declines(tenant)
    due = membership_of(tenant).period_end

    assert memberships_renew_due(now=due).outcomes == {"retrying": 1}
    membership = membership_of(tenant)
    assert (membership.status, membership.retry_count) == (Membership.STATUS_PAST_DUE, 1)
    assert membership.next_retry_at == due + timedelta(days=1)
    assert plan_of(tenant) == "STANDARD_MONTHLY"  # the plan stays while retrying
    renewal = Payment.objects.get(kind=Payment.KIND_RENEWAL)
    assert (renewal.status, renewal.next_date) == ("Pending", due + timedelta(days=1))

    # Not yet due again half a day later.
    assert memberships_renew_due(now=due + timedelta(hours=12)).outcomes == {}
    assert memberships_renew_due(now=due + timedelta(days=1)).outcomes == {"retrying": 1}
    assert membership_of(tenant).next_retry_at == due + timedelta(days=4)
    assert memberships_renew_due(now=due + timedelta(days=4)).outcomes == {"retrying": 1}
    assert membership_of(tenant).next_retry_at == due + timedelta(days=9)
    assert memberships_renew_due(now=due + timedelta(days=9)).outcomes == {"fell_back": 1}

    membership = membership_of(tenant)
    assert (membership.status, membership.period_end, membership.pending_payment) == ("none", None, None)
    assert plan_of(tenant) == "NONE"
    renewal.refresh_from_db()
    assert renewal.status == "Failed" and renewal.next_date is None
    assert [(e["attempt"], e["status"], e["declineCode"]) for e in renewal.history] == [
        (1, "Failed", "card_declined"),
        (2, "Failed", "card_declined"),
        (3, "Failed", "card_declined"),
        (4, "Failed", "card_declined"),
    ]
    assert [e["date"][:10] for e in renewal.history] == [f"{due + timedelta(days=d):%Y-%m-%d}" for d in (0, 1, 4, 9)]
    shown = assert_ok(tenant.admin.client.get(PAYMENTS))["payments"][0]
    assert shown["status"] == "Failed" and len(shown["history"]) == 4
    # Nothing more is attempted.
    assert memberships_renew_due(now=due + timedelta(days=30)).outcomes == {}


def test_a_retry_that_succeeds_restores_the_membership(tenant):
    enrol(tenant)
    good = str(membership_of(tenant).payment_method_id)
    switch_to_a_card_that_declines(tenant)
    due = membership_of(tenant).period_end
    memberships_renew_due(now=due)
    assert_ok(tenant.admin.client.post(DEFAULT_METHOD, {"methodid": good}, format="json"))
    assert memberships_renew_due(now=due + timedelta(days=1)).outcomes == {"renewed": 1}
    membership = membership_of(tenant)
    assert (membership.status, membership.retry_count, membership.next_retry_at) == ("active", 0, None)
    assert membership.period_start == due
    renewal = Payment.objects.get(kind=Payment.KIND_RENEWAL)
    assert renewal.status == "Succeeded"
    assert [e["status"] for e in renewal.history] == ["Failed", "Succeeded"]


def test_a_cancelled_membership_ends_with_its_period(tenant):
    enrol(tenant)
    assert_ok(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"))
    due = membership_of(tenant).period_end
    assert memberships_renew_due(now=due - timedelta(minutes=1)).outcomes == {}
    assert plan_of(tenant) == "STANDARD_MONTHLY"
    assert memberships_renew_due(now=due).outcomes == {"ended": 1}
    assert plan_of(tenant) == "NONE"
    assert Payment.objects.count() == 1  # nothing charged


def test_a_deleted_method_makes_the_renewal_fail_and_fall_back(tenant):
    enrol(tenant)
    membership = membership_of(tenant)
    assert_ok(tenant.admin.client.post(DELETE_METHOD, {"methodid": str(membership.payment_method_id)}, format="json"))
    assert memberships_renew_due(now=membership.period_end).outcomes == {"fell_back": 1}
    assert plan_of(tenant) == "NONE"
    renewal = Payment.objects.get(kind=Payment.KIND_RENEWAL)
    assert renewal.status == "Failed"
    assert renewal.history[0]["reason"] == "No payment method."


def test_only_due_companies_are_touched(tenant, outsider):
    enrol(tenant, "STANDARD_MONTHLY")
    enrol(outsider, "STANDARD_YEARLY")
    due = membership_of(tenant).period_end
    assert memberships_renew_due(now=due).outcomes == {"renewed": 1}
    assert not Payment.objects.filter(company=outsider.company, kind=Payment.KIND_RENEWAL).exists()


def test_the_task_takes_a_clock_and_beat_runs_it_daily(tenant):
    enrol(tenant)
    due = membership_of(tenant).period_end
    assert renew_due_memberships.delay(now=due.isoformat()).get() == {"renewed": 1}
    entry = settings.CELERY_BEAT_SCHEDULE["billing-renew-due-memberships"]
    assert entry["task"] == renew_due_memberships.name
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {settings.BILLING_RENEWAL_HOUR_UTC}
    assert entry["schedule"].minute == {0}
    with pytest.raises(ValueError, match="ISO 8601"):
        renew_due_memberships(now="tomorrow")


@pytest.mark.worker
def test_a_real_worker_renews(tenant, celery_worker):
    enrol(tenant)
    due = membership_of(tenant).period_end
    renew_due_memberships.delay(now=(due + timedelta(minutes=1)).isoformat())
    wait_for(lambda: Payment.objects.filter(kind=Payment.KIND_RENEWAL, status="Succeeded").exists())
    assert membership_of(tenant).period_start == due
