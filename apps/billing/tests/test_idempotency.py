"""Idempotency keys held by a request still running, left by one that died, and past their lifetime."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.billing.models import IdempotencyKey, Payment
from apps.billing.services.idempotency import idempotency_keys_purge, request_fingerprint
from apps.billing.tasks import purge_idempotency_keys
from apps.billing.tests.helpers import MEMBERSHIP_SAVE, card
from apps.core.testing import assert_envelope_error, assert_ok

PAYLOAD = {"plan": "STANDARD_MONTHLY", "method": "new", **card()}


def held_key(tenant, *, age_seconds: int) -> IdempotencyKey:
    """A key claimed by a request that has not answered (yet)."""
    key = IdempotencyKey.objects.create(
        company=tenant.company,
        key="held",
        scope="membership/save",
        fingerprint=request_fingerprint(scope="membership/save", data=PAYLOAD),
    )
    IdempotencyKey.objects.filter(pk=key.pk).update(updated_at=timezone.now() - timedelta(seconds=age_seconds))
    return key


def test_a_key_still_in_flight_is_409_and_charges_nothing(tenant):
    held_key(tenant, age_seconds=5)
    response = tenant.admin.client.post(MEMBERSHIP_SAVE, PAYLOAD, format="json", HTTP_IDEMPOTENCY_KEY="held")
    assert_envelope_error(response, 409, "being processed")
    assert not Payment.objects.exists()


def test_a_key_left_by_a_request_that_died_is_taken_over(tenant, settings):
    held_key(tenant, age_seconds=settings.BILLING_IDEMPOTENCY_LOCK_SECONDS + 1)
    assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, PAYLOAD, format="json", HTTP_IDEMPOTENCY_KEY="held"))
    assert Payment.objects.count() == 1
    assert IdempotencyKey.objects.get(key="held").response_status == 200


def test_keys_expire_and_are_purged(tenant, settings):
    assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, PAYLOAD, format="json", HTTP_IDEMPOTENCY_KEY="old"))
    later = timezone.now() + timedelta(hours=settings.BILLING_IDEMPOTENCY_KEY_HOURS, minutes=1)
    assert idempotency_keys_purge(now=timezone.now()) == 0
    assert idempotency_keys_purge(now=later) == 1
    assert not IdempotencyKey.objects.exists()
    assert purge_idempotency_keys.delay().get() == 0


def test_without_a_key_nothing_is_stored(tenant):
    assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, PAYLOAD, format="json"))
    assert not IdempotencyKey.objects.exists()
