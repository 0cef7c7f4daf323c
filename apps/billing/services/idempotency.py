"""Idempotency keys: a retried request with the same key gets the first answer again and charges nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Company
from apps.billing.models import IdempotencyKey
from apps.core.crypto import digest
from apps.core.exceptions import Conflict, InvalidInput

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    """Either a fresh key this request now holds (`record`), or the stored answer to replay."""

    record: IdempotencyKey | None = None
    status: int | None = None
    body: Any = None


def request_fingerprint(*, scope: str, data: dict[str, Any]) -> str:
    """A keyed digest of the request, to tell a retry from a different request under the same key.
    Card data only ever enters the digest, never the database."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return digest(canonical, purpose=f"billing.idempotency.{scope}")


def idempotency_claim(*, company: Company, key: str, scope: str, fingerprint: str) -> Claim:
    """Hold the key for this request, or return the answer stored under it."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"Invalid Idempotency-Key: it must be 1 to {MAX_KEY_LENGTH} printable characters.")
    now = timezone.now()
    expired = now - timedelta(hours=settings.BILLING_IDEMPOTENCY_KEY_HOURS)
    rows = IdempotencyKey.objects.for_company(company).filter(key=key)
    rows.filter(created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return Claim(
                record=IdempotencyKey.objects.create(company=company, key=key, scope=scope, fingerprint=fingerprint)
            )
    except IntegrityError:
        existing = rows.first()
    if existing is None:  # removed between our insert and our read: treat as in flight
        raise Conflict("A request with this Idempotency-Key is being processed. Retry in a moment.")
    if existing.scope != scope or existing.fingerprint != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request. Use a new key for a new request.")
    if existing.response_status is None:
        stale = now - timedelta(seconds=settings.BILLING_IDEMPOTENCY_LOCK_SECONDS)
        # A holder that died mid-request leaves the key unanswered; after a while it may be taken over.
        if rows.filter(response_status__isnull=True, updated_at__lt=stale).update(updated_at=now):
            existing.refresh_from_db()
            return Claim(record=existing)
        raise Conflict("A request with this Idempotency-Key is being processed. Retry in a moment.")
    return Claim(status=existing.response_status, body=existing.response_body)


def idempotency_complete(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Store the answer the request got, for its retries."""
    record.response_status, record.response_body = status, body
    record.save(update_fields=["response_status", "response_body", "updated_at"])


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Let the key be used again (the request ended in an unexpected error, so nothing is stored)."""
    IdempotencyKey.objects.filter(pk=record.pk).delete()


def idempotency_keys_purge(*, now: Any = None) -> int:
    """Remove keys past their lifetime; how many."""
    now = now or timezone.now()
    expired = now - timedelta(hours=settings.BILLING_IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expired).delete()
    return deleted
