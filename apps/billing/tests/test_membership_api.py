"""membership/save (both paths), stop and request, and payments/get."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core import mail

from apps.accounts.models import Company, User
from apps.accounts.roles import ACCOUNTING_MANAGER, ALL_ROLES, COMPANY_ADMIN
from apps.billing.models import Membership, MembershipRequest, Payment, PaymentMethod
from apps.billing.tests.helpers import (
    EXPIRED,
    INSUFFICIENT_FUNDS,
    MEMBERSHIP_REQUEST,
    MEMBERSHIP_SAVE,
    MEMBERSHIP_SAVE_NO_VERSION,
    MEMBERSHIP_STOP,
    PAYMENTS,
    STOLEN,
    VISA,
    card,
    enrol,
    save_method,
)
from apps.core.testing import assert_envelope_error, assert_ok

NEW_CARD = {"plan": "STANDARD_MONTHLY", "method": "new", **card()}


def plan_of(tenant) -> str:
    return Company.objects.get(pk=tenant.company.pk).plan


# --- who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", MEMBERSHIP_SAVE, NEW_CARD),
        ("post", MEMBERSHIP_SAVE_NO_VERSION, NEW_CARD),
        ("post", MEMBERSHIP_STOP, {}),
        ("put", MEMBERSHIP_REQUEST, {"plan": "ENTERPRISE_MONTHLY"}),
    ],
)
def test_only_a_company_admin_may_change_the_membership(anon, tenant, method, path, payload):
    assert_envelope_error(getattr(anon, method)(path, payload, format="json"), 401)
    for role in ALL_ROLES:
        if role == COMPANY_ADMIN:
            continue
        member = tenant.member([role])
        assert_envelope_error(getattr(member.client, method)(path, payload, format="json"), 403, "permission")
    assert plan_of(tenant) == "NONE"
    assert not Payment.objects.exists() and not PaymentMethod.objects.exists()
    assert not MembershipRequest.objects.exists()


def test_payments_get_roles(anon, tenant, accountant):
    assert_envelope_error(anon.get(PAYMENTS), 401)
    for role in ALL_ROLES:
        if role in (COMPANY_ADMIN, ACCOUNTING_MANAGER):
            continue
        assert_envelope_error(tenant.member([role]).client.get(PAYMENTS), 403)
    assert assert_ok(accountant.client.get(PAYMENTS))["payments"] == []
    assert assert_ok(tenant.key_client().get(PAYMENTS))["payments"] == []


# --- save ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MEMBERSHIP_SAVE, MEMBERSHIP_SAVE_NO_VERSION])
def test_save_with_a_new_card_charges_and_switches_the_plan(tenant, path):
    body = assert_ok(tenant.admin.client.post(path, NEW_CARD, format="json"))
    assert body["message"] == "You have now been enrolled with the STANDARD membership."
    membership = Membership.objects.get(company=tenant.company)
    assert body["membershipToken"] == membership.token and membership.token.startswith("mbr_")
    assert plan_of(tenant) == "STANDARD_MONTHLY"
    assert membership.status == Membership.STATUS_ACTIVE
    assert membership.period_end > membership.period_start
    method = PaymentMethod.objects.get(company=tenant.company)
    assert membership.payment_method == method and method.is_default and method.last4 == "4242"
    payment = Payment.objects.get(company=tenant.company)
    assert (payment.status, payment.amount_cents, payment.currency) == ("Succeeded", 1000, "usd")
    assert payment.metadata == {"membership_plan": "STANDARD_MONTHLY"}


def test_payments_get_shows_the_spec_shape(tenant, accountant):
    enrol(tenant)
    payment = Payment.objects.get()
    (shown,) = assert_ok(accountant.client.get(PAYMENTS))["payments"]
    assert shown["paymentid"] == str(payment.pk)
    assert shown["customerid"].startswith("cus_sbx_")
    assert (shown["status"], shown["currency"], shown["totalAmount"], shown["tipAmount"]) == ("Succeeded", "usd", 10, 0)
    assert Decimal(str(shown["feeAmount"])) == Decimal("0.59")  # 2.9% + 30 cents, in exact cents
    assert shown["cardInfo"] == {
        "cardholderName": "Jane Doe",
        "cardLast4": "4242",
        "cardType": "Visa",
        "expiryMonth": 12,
        "expiryYear": 2040,
        "debitCredit": "credit",
        "zipCode": "12345",
    }
    assert shown["paymentProgram"] == "standard"
    assert (shown["cardPresent"], shown["cvccheck"], shown["zipcheck"]) == (False, True, True)
    assert shown["risk_level"] == "normal" and isinstance(shown["risk_score"], int)
    assert shown["date"].endswith("Z") and shown["nextdate"].endswith("Z")
    assert [entry["status"] for entry in shown["history"]] == ["Succeeded"]
    assert shown["metadata"] == {"membership_plan": "STANDARD_MONTHLY"}
    assert shown["refunded"] == 0


@pytest.mark.parametrize("shape", ["methodID", "id-as-method", "lowercase"])
def test_save_with_a_saved_method(tenant, shape):
    methodid = save_method(tenant, VISA)
    payload = {
        "methodID": {"plan": "premium_yearly", "method": "methodID", "methodID": methodid},
        "id-as-method": {"plan": "PREMIUM_YEARLY", "method": methodid},
        "lowercase": {"plan": "PREMIUM_YEARLY", "method": "methodid", "methodid": methodid},
    }[shape]
    body = assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, payload, format="json"))
    assert body["message"] == "You have now been enrolled with the PREMIUM membership."
    assert plan_of(tenant) == "PREMIUM_YEARLY"
    assert PaymentMethod.objects.count() == 1
    payment = Payment.objects.get()
    assert (payment.amount_cents, str(payment.payment_method_id)) == (49_000, methodid)
    membership = Membership.objects.get(company=tenant.company)
    assert (membership.period_end - membership.period_start).days in (365, 366)


@pytest.mark.parametrize(
    ("number", "code", "reason"),
    [
        (INSUFFICIENT_FUNDS, "insufficient_funds", "insufficient funds"),
        (EXPIRED, "expired_card", "expired"),
        (STOLEN, "stolen_card", "stolen"),
    ],
)
def test_a_declined_new_card_changes_nothing(tenant, number, code, reason):
    response = tenant.admin.client.post(MEMBERSHIP_SAVE, {**NEW_CARD, **card(number)}, format="json")
    body = assert_envelope_error(response, 402, reason)
    assert body["decline_code"] == code
    assert number not in response.content.decode()
    assert plan_of(tenant) == "NONE"
    assert not PaymentMethod.objects.exists() and not Payment.objects.exists()
    assert not Membership.objects.filter(status=Membership.STATUS_ACTIVE).exists()


def test_a_declined_saved_method_changes_nothing(tenant):
    methodid = save_method(tenant, INSUFFICIENT_FUNDS)
    payload = {"plan": "STANDARD_MONTHLY", "method": "methodID", "methodID": methodid}
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_SAVE, payload, format="json"), 402, "insufficient funds")
    assert plan_of(tenant) == "NONE" and not Payment.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"method": "new"}, 400, "Missing plan."),
        ({"plan": "STANDARD_MONTHLY"}, 400, "Missing or invalid payment method."),
        ({"plan": "STANDARD_MONTHLY", "method": ""}, 400, "Missing or invalid payment method."),
        ({"plan": "STANDARD_MONTHLY", "method": "methodID"}, 400, "Missing or invalid payment method."),
        ({"plan": "premiumPlanID", "method": "new", **card()}, 400, "Valid plans: STANDARD_MONTHLY, STANDARD_YEARLY"),
        ({"plan": "NONE", "method": "new", **card()}, 400, "Invalid plan"),
        ({"plan": "ENTERPRISE_MONTHLY", "method": "new", **card()}, 400, "membership/request"),
        ({"plan": "STANDARD_MONTHLY", "method": "new"}, 400, "Missing cardholderName."),
        ({"plan": "STANDARD_MONTHLY", "method": "new", **card(expiryYear=2020)}, 400, "expired"),
        ({"plan": "STANDARD_MONTHLY", "method": "new", **card("4242424242424241")}, 400, "Invalid cardNumber"),
        ({"plan": "STANDARD_MONTHLY", "method": "methodID123"}, 404, "Payment method not found."),
        ({"plan": "STANDARD_MONTHLY", "method": str(uuid.uuid4())}, 404, "Payment method not found."),
    ],
)
def test_save_validation(tenant, payload, status, message):
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_SAVE, payload, format="json"), status, message)
    assert plan_of(tenant) == "NONE" and not Payment.objects.exists()


def test_save_with_another_company_s_method_is_not_found(tenant, outsider):
    theirs = save_method(outsider, VISA)
    for payload in (
        {"plan": "STANDARD_MONTHLY", "method": theirs},
        {"plan": "STANDARD_MONTHLY", "method": "methodID", "methodID": theirs},
    ):
        assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_SAVE, payload, format="json"), 404)
    assert plan_of(tenant) == "NONE" and plan_of(outsider) == "NONE"
    assert not Payment.objects.exists()


def test_the_same_plan_again_is_a_conflict_and_charges_nothing(tenant):
    enrol(tenant)
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json"), 409, "already enrolled")
    assert Payment.objects.count() == 1


def test_changing_plan_charges_the_new_plan(tenant):
    enrol(tenant, "STANDARD_MONTHLY")
    methodid = str(Membership.objects.get().payment_method_id)
    body = assert_ok(
        tenant.admin.client.post(MEMBERSHIP_SAVE, {"plan": "PREMIUM_MONTHLY", "method": methodid}, format="json")
    )
    assert body["message"] == "You have now been enrolled with the PREMIUM membership."
    assert plan_of(tenant) == "PREMIUM_MONTHLY"
    assert sorted(Payment.objects.values_list("amount_cents", flat=True)) == [1000, 4900]


def test_payments_of_another_company_are_not_shown(tenant, outsider):
    enrol(outsider)
    assert assert_ok(tenant.admin.client.get(PAYMENTS))["payments"] == []
    assert len(assert_ok(outsider.admin.client.get(PAYMENTS))["payments"]) == 1


# --- idempotency -----------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_never_charges_twice(tenant):
    client = tenant.admin.client
    first = client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    body = assert_ok(first)
    again = client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert assert_ok(again) == body
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1 and PaymentMethod.objects.count() == 1
    # The same key with another body is refused; a new key is a new request (here: already enrolled).
    other = {**NEW_CARD, "plan": "PREMIUM_MONTHLY"}
    assert_envelope_error(
        client.post(MEMBERSHIP_SAVE, other, format="json", HTTP_IDEMPOTENCY_KEY="key-1"), 409, "different request"
    )
    assert_envelope_error(
        client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="key-2"), 409, "already enrolled"
    )
    assert Payment.objects.count() == 1


def test_a_declined_answer_is_replayed_not_retried(tenant):
    payload = {**NEW_CARD, **card(INSUFFICIENT_FUNDS)}
    client = tenant.admin.client
    first = assert_envelope_error(client.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY="k"), 402)
    again = client.post(MEMBERSHIP_SAVE, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert assert_envelope_error(again, 402) == first
    assert again["Idempotent-Replayed"] == "true"


def test_idempotency_keys_are_per_company(tenant, outsider):
    assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="shared"))
    response = outsider.admin.client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert_ok(response)
    assert "Idempotent-Replayed" not in response
    assert Payment.objects.count() == 2


def test_payment_method_save_with_a_key_saves_once(tenant):
    client = tenant.admin.client
    first = assert_ok(client.post("/api/v1/paymentmethod/save", card(), format="json", HTTP_IDEMPOTENCY_KEY="pm-1"))
    second = assert_ok(client.post("/api/v1/paymentmethod/save", card(), format="json", HTTP_IDEMPOTENCY_KEY="pm-1"))
    assert first == second and PaymentMethod.objects.count() == 1


def test_a_bad_idempotency_key_is_refused(tenant):
    response = tenant.admin.client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert_envelope_error(response, 400, "Idempotency-Key")
    assert not Payment.objects.exists()


# --- stop ---------------------------------------------------------------------------------------------------------


def test_stop_cancels_at_the_end_of_the_period(tenant):
    enrol(tenant)
    body = assert_ok(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"))
    assert body["message"] == "Your membership has been successfully cancelled."
    membership = Membership.objects.get()
    assert membership.status == Membership.STATUS_CANCELLING
    assert body["endsAt"].startswith(f"{membership.period_end:%Y-%m-%d}")
    assert plan_of(tenant) == "STANDARD_MONTHLY"  # paid until the period ends
    # Again: the same answer, nothing changes.
    assert_ok(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"))
    # Enrolling in the same plan again resumes it without a charge.
    body = assert_ok(tenant.admin.client.post(MEMBERSHIP_SAVE, NEW_CARD, format="json"))
    assert Membership.objects.get().status == Membership.STATUS_ACTIVE
    assert Payment.objects.count() == 1 and body["membershipToken"] == membership.token


def test_stop_without_a_membership(tenant):
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"), 400, "no membership")


def test_a_plan_set_by_an_operator_says_to_contact_us(tenant):
    tenant.company.plan = "PREMIUM_MONTHLY"  # as bootstrap_company --plan does: not billed here
    tenant.company.save()
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"), 400, "contact us")
    assert plan_of(tenant) == "PREMIUM_MONTHLY"


def test_an_enterprise_plan_says_to_contact_us(tenant):
    from apps.billing.services.membership import membership_grant

    membership_grant(company=tenant.company, plan="ENTERPRISE_YEARLY")
    assert_envelope_error(tenant.admin.client.post(MEMBERSHIP_STOP, format="json"), 400, "contact us")
    assert plan_of(tenant) == "ENTERPRISE_YEARLY"


# --- request ---------------------------------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@operator.test", "x-Passw0rd-x", fname="Op", lname="Erator")


@pytest.mark.parametrize("plan", ["ENTERPRISE_MONTHLY", "ENTERPRISE_YEARLY"])
def test_request_records_it_and_tells_staff(tenant, operator, django_capture_on_commit_callbacks, plan):
    with django_capture_on_commit_callbacks(execute=True):
        body = assert_ok(tenant.admin.client.put(MEMBERSHIP_REQUEST, {"plan": plan}, format="json"))
    assert body == {"success": True, "message": "Your request has been submitted. We will be in touch shortly."}
    request = MembershipRequest.objects.get()
    assert (request.company_id, request.plan, request.status) == (tenant.company.pk, plan, "open")
    assert request.requested_by == tenant.admin.user
    (message,) = mail.outbox
    assert message.to == ["ops@operator.test"] and plan in message.subject and "Acme" in message.body
    assert plan_of(tenant) == "NONE"


def test_no_request_withdraws(tenant, operator, settings, django_capture_on_commit_callbacks):
    settings.BILLING_STAFF_EMAILS = ["sales@symbient.test"]
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(tenant.admin.client.put(MEMBERSHIP_REQUEST, {"plan": "ENTERPRISE_MONTHLY"}, format="json"))
        assert_ok(tenant.admin.client.put(MEMBERSHIP_REQUEST, {"plan": "NO_REQUEST"}, format="json"))
    assert list(MembershipRequest.objects.order_by("created_at").values_list("plan", "status")) == [
        ("ENTERPRISE_MONTHLY", "withdrawn"),
        ("NO_REQUEST", "withdrawn"),
    ]
    assert [m.to for m in mail.outbox] == [["sales@symbient.test"]] * 2
    assert "withdrew" in mail.outbox[1].body


@pytest.mark.parametrize("payload", [{"plan": "STANDARD_MONTHLY"}, {"plan": "Admin"}, {}, {"plan": ""}])
def test_request_of_anything_else_is_invalid(tenant, payload):
    body = assert_envelope_error(tenant.admin.client.put(MEMBERSHIP_REQUEST, payload, format="json"), 400)
    assert body["message"] == "Invalid plan requested."
    assert not MembershipRequest.objects.exists()


def test_request_takes_put_only(tenant):
    assert_envelope_error(
        tenant.admin.client.post(MEMBERSHIP_REQUEST, {"plan": "ENTERPRISE_MONTHLY"}, format="json"), 405
    )
