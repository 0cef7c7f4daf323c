"""After every card flow, no card number and no CVC is anywhere: not in any table, not in any log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

from django.db import connection

from apps.billing.models import Membership
from apps.billing.services.renewals import memberships_renew_due
from apps.billing.tests.helpers import (
    ALL_TEST_NUMBERS,
    AMEX,
    AMEX_CVC,
    CHARGE_DECLINED,
    CVC,
    DEFAULT_METHOD,
    DELETE_METHOD,
    EXPIRED,
    GENERIC_DECLINE,
    INSUFFICIENT_FUNDS,
    MASTERCARD,
    MEMBERSHIP_SAVE,
    MEMBERSHIP_SAVE_NO_VERSION,
    METHODS,
    PAYMENTS,
    SAVE_METHOD,
    STOLEN,
    VISA,
    VISA_2,
    card,
)
from apps.core.testing import assert_ok

# A CVC standing alone (not inside an id, a token, a digest or a longer number).
CVC_ALONE = re.compile(rf"(?<![0-9A-Za-z_-])(?:{CVC}|{AMEX_CVC})(?![0-9A-Za-z_-])")
BAD_LUHN = "4242424242424241"
SECRETS = (*ALL_TEST_NUMBERS, BAD_LUHN)


def leaks(text: str) -> list[str]:
    found = [number for number in SECRETS if number in text]
    found += CVC_ALONE.findall(text)
    return found


def every_text_value() -> list[tuple[str, str, str]]:
    """(table, column, text) for every text-like value in every table of the database."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = as_text(value)
                    if text is not None:
                        values.append((table, column, text))
    return values


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode(errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return None


def run_every_card_flow(tenant, outsider) -> None:
    admin = tenant.admin.client
    # Methods: saved, declined at saving, refused as malformed.
    for number in (VISA, AMEX, MASTERCARD, INSUFFICIENT_FUNDS, CHARGE_DECLINED):
        assert_ok(admin.post(SAVE_METHOD, card(number), format="json"))
    for number in (EXPIRED, STOLEN, GENERIC_DECLINE):
        assert admin.post(SAVE_METHOD, card(number), format="json").status_code == 402
    assert admin.post(SAVE_METHOD, card(BAD_LUHN), format="json").status_code == 400
    assert admin.post(SAVE_METHOD, card(VISA, cvc="98"), format="json").status_code == 400
    assert admin.post(SAVE_METHOD, card(VISA, expiryYear=2001), format="json").status_code == 400
    # Membership with new cards: declined, then enrolled, with an idempotent retry.
    for index, number in enumerate((INSUFFICIENT_FUNDS, EXPIRED, STOLEN)):
        payload = {"plan": "STANDARD_MONTHLY", "method": "new", **card(number)}
        assert admin.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY=f"d-{index}").status_code == 402
    payload = {"plan": "STANDARD_MONTHLY", "method": "new", **card(VISA_2)}
    assert_ok(admin.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY="enrol-1"))
    assert_ok(admin.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY="enrol-1"))
    assert_ok(
        outsider.admin.client.post(
            MEMBERSHIP_SAVE_NO_VERSION, {"plan": "PREMIUM_MONTHLY", "method": "new", **card(AMEX)}, format="json"
        )
    )
    # Renewals: one declined card retried to the end, with everything logged.
    methods = assert_ok(admin.get(METHODS))["paymentMethods"]
    declining = next(m["methodid"] for m in methods if m["cardLast4"] == CHARGE_DECLINED[-4:])
    assert_ok(admin.post(DEFAULT_METHOD, {"methodid": declining}, format="json"))
    due = Membership.objects.get(company=tenant.company).period_end
    for days in (0, 1, 4, 9):
        memberships_renew_due(now=due + timedelta(days=days))
    assert_ok(admin.post(DELETE_METHOD, {"methodid": declining}, format="json"))
    assert_ok(admin.get(PAYMENTS))


def test_no_card_number_or_cvc_in_the_database_or_the_logs(tenant, outsider, caplog):
    caplog.set_level(logging.DEBUG)
    run_every_card_flow(tenant, outsider)

    values = every_text_value()
    tables = {table for table, _, _ in values}
    assert {"billing_paymentmethod", "billing_payment", "billing_idempotencykey", "billing_membership"} <= tables
    assert any("4242" in text for table, _, text in values if table == "billing_paymentmethod")  # last4 is there
    leaked = [(table, column, leaks(text)) for table, column, text in values if leaks(text)]
    assert leaked == []

    assert any("declined" in record.getMessage() for record in caplog.records)  # the flows were logged
    for record in caplog.records:
        text = " ".join([record.getMessage(), repr(record.args), record.exc_text or ""])
        assert leaks(text) == [], record.getMessage()


def test_the_scan_would_find_a_leak(tenant):
    # The detector itself: a stored number or a lone CVC is found; ids, tokens and digests are not mistaken for one.
    assert leaks(json.dumps({"cvc": 987})) == ["987"]
    assert leaks(f"card {VISA} used") == [VISA]
    assert leaks("d987f0c2-0987-4987-a987-9870aa987bb1 tok_sbx_ab987-_x ch_sbx_987a 2030-01-01 00:00:00.987000") == []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_company SET description = %s WHERE id = %s",
            [f"paid with {AMEX}", tenant.company.pk.hex if connection.vendor == "sqlite" else tenant.company.pk],
        )
    assert any(leaks(text) for _, _, text in every_text_value())
