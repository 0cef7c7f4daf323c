"""Plans and their limits, usage counters, payment methods (processor tokens only), memberships, payments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.accounts.models import Company
from apps.accounts.roles import PLAN_CODES
from apps.core.models import CompanyOwnedModel, UUIDModel

PERIOD_NONE = "none"
PERIOD_MONTH = "month"
PERIOD_YEAR = "year"
PERIODS = ((PERIOD_NONE, "none"), (PERIOD_MONTH, "month"), (PERIOD_YEAR, "year"))


class Plan(UUIDModel):
    """A plan of the catalogue: its price per period and its limits (empty = unlimited)."""

    code = models.CharField(max_length=40, unique=True, choices=[(code, code) for code in PLAN_CODES])
    name = models.CharField(max_length=100)
    program = models.CharField(max_length=40, help_text="The plan family: none, standard, premium, enterprise.")
    price_cents = models.PositiveIntegerField(default=0, help_text="Price per period, in cents.")
    currency = models.CharField(max_length=3, default="usd")
    period = models.CharField(max_length=10, choices=PERIODS, default=PERIOD_MONTH)
    self_service = models.BooleanField(
        default=True, help_text="May be bought with membership/save; otherwise arranged through membership/request."
    )
    max_users = models.PositiveIntegerField(null=True, blank=True, help_text="Active users; empty = unlimited.")
    max_active_activities = models.PositiveIntegerField(null=True, blank=True)
    max_models = models.PositiveIntegerField(null=True, blank=True)
    max_inference_requests_per_month = models.PositiveBigIntegerField(null=True, blank=True)
    max_tokens_per_month = models.PositiveBigIntegerField(null=True, blank=True)
    max_transcription_minutes_per_month = models.PositiveIntegerField(null=True, blank=True)
    max_upload_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Largest single upload, in MB.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("sort_order", "code")

    def __str__(self) -> str:
        return self.code


class UsageCounter(CompanyOwnedModel):
    """How much of a metered resource a company used in one period (a calendar month, UTC)."""

    resource = models.CharField(max_length=40)
    period_start = models.DateField()
    used = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "resource", "period_start"], name="billing_usage_one_per_period")
        ]
        ordering = ("-period_start", "resource")

    def __str__(self) -> str:
        return f"{self.resource} {self.period_start}: {self.used}"


class PaymentMethod(CompanyOwnedModel):
    """A card kept by the processor: we hold its token and what may be shown, never the number or the CVC."""

    processor = models.CharField(max_length=40)
    token = models.CharField(max_length=500, help_text="The processor's reference to the card.")
    brand = models.CharField(max_length=40)
    funding = models.CharField(max_length=20, default="credit")
    issuer = models.CharField(max_length=100, blank=True)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    cardholder_name = models.CharField(max_length=200)
    zip_code = models.CharField(max_length=20)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ("-is_default", "-created_at")
        constraints = [
            models.UniqueConstraint(
                fields=["company"], condition=Q(is_default=True), name="billing_one_default_method_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class Membership(CompanyOwnedModel):
    """The billing state of a company's plan (the plan itself is `Company.plan`): period, card, renewal."""

    STATUS_NONE = "none"
    STATUS_ACTIVE = "active"
    STATUS_CANCELLING = "cancelling"
    STATUS_PAST_DUE = "past_due"
    STATUS_GRANTED = "granted"
    STATUSES = (
        (STATUS_NONE, "no paid plan"),
        (STATUS_ACTIVE, "active, renews"),
        (STATUS_CANCELLING, "ends at the period's end"),
        (STATUS_PAST_DUE, "renewal failed, retrying"),
        (STATUS_GRANTED, "granted by hand, not charged"),
    )

    status = models.CharField(max_length=20, choices=STATUSES, default=STATUS_NONE)
    token = models.CharField(max_length=64, blank=True, help_text="The membership token of the last enrolment.")
    processor_customer_id = models.CharField(max_length=100, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True, help_text="When the plan renews (or ends).")
    retry_count = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    pending_payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company"], name="billing_one_membership_per_company")]
        indexes = [models.Index(fields=["status", "period_end"]), models.Index(fields=["status", "next_retry_at"])]

    def __str__(self) -> str:
        return f"membership of {self.company_id}: {self.status}"


class Payment(CompanyOwnedModel):
    """One charge (first period or a renewal) with every attempt in `history`."""

    STATUS_SUCCEEDED = "Succeeded"
    STATUS_PENDING = "Pending"
    STATUS_FAILED = "Failed"
    STATUSES = ((STATUS_SUCCEEDED, STATUS_SUCCEEDED), (STATUS_PENDING, STATUS_PENDING), (STATUS_FAILED, STATUS_FAILED))
    KIND_ENROLMENT = "enrolment"
    KIND_RENEWAL = "renewal"
    KINDS = ((KIND_ENROLMENT, KIND_ENROLMENT), (KIND_RENEWAL, KIND_RENEWAL))

    kind = models.CharField(max_length=20, choices=KINDS)
    status = models.CharField(max_length=20, choices=STATUSES)
    plan_code = models.CharField(max_length=40)
    program = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    amount_cents = models.PositiveIntegerField()
    fee_cents = models.PositiveIntegerField(default=0)
    tip_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    processor = models.CharField(max_length=40)
    processor_charge_id = models.CharField(max_length=100, blank=True)
    customer_id = models.CharField(max_length=100, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    card = models.JSONField(default=dict, blank=True, help_text="What may be shown of the card: name, brand, last4.")
    cvc_check = models.BooleanField(default=False)
    zip_check = models.BooleanField(default=False)
    risk_level = models.CharField(max_length=20, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    next_date = models.DateTimeField(null=True, blank=True, help_text="The next renewal, or the next retry.")
    failure_reason = models.CharField(max_length=200, blank=True)
    history = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.plan_code} {self.amount_cents}c {self.status}"


class MembershipRequest(CompanyOwnedModel):
    """A company's request for a plan arranged with staff (enterprise), or the withdrawal of one."""

    STATUS_OPEN = "open"
    STATUS_WITHDRAWN = "withdrawn"
    STATUS_DONE = "done"
    STATUSES = ((STATUS_OPEN, STATUS_OPEN), (STATUS_WITHDRAWN, STATUS_WITHDRAWN), (STATUS_DONE, STATUS_DONE))

    plan = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=STATUSES, default=STATUS_OPEN)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.plan} ({self.status})"


class IdempotencyKey(CompanyOwnedModel):
    """A client's Idempotency-Key and the answer it got, so a retry gets the same answer and no second charge."""

    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="Keyed digest of the request, never the request.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "key"], name="billing_idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class CompanyPlan(Company):
    """Each company's plan and usage against its limits, as the billing admin shows them."""

    class Meta:
        proxy = True
        verbose_name = "company plan"
        verbose_name_plural = "company plans"
