"""Automations: a flow of operators, its events, its runs, and per-company automation settings."""

from __future__ import annotations

from django.db import models

from apps.core.models import CompanyOwnedModel


class Automation(CompanyOwnedModel):
    """A company's automation: a flow graph started by its trigger URL, a schedule or a test."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    flow = models.JSONField(default=dict, blank=True)
    trigger_name = models.CharField(max_length=200, blank=True)
    # The trigger URL's secret: a keyed digest to look it up, and the secret encrypted to show the URL again.
    trigger_digest = models.CharField(max_length=64, unique=True)
    trigger_secret = models.TextField()
    schedule = models.CharField(max_length=120, blank=True, help_text="Cron expression (UTC); empty: no schedule.")
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ("name", "created_at")

    def __str__(self) -> str:
        return self.name


class AutomationEvent(CompanyOwnedModel):
    """Something that happened to an automation: created, modified, activated, a run's summary."""

    class Kind(models.TextChoices):
        CHANGE = "change"
        RUN = "run"

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHANGE)
    event = models.CharField(max_length=500)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["automation", "-created_at"])]

    def __str__(self) -> str:
        return self.event


class AutomationRun(CompanyOwnedModel):
    """One run of an automation: a Celery job whose state lives here.

    While `status` is Running, the worker holding `lease_token` (until `lease_until`) executes it;
    every step and the final transition are conditional on that token, so a run that a second
    worker takes over (after the first died) completes once.
    """

    class Status(models.TextChoices):
        RUNNING = "Running"
        COMPLETED = "Completed"
        FAILED = "Failed"
        CANCELLED = "Cancelled"

    class Mode(models.TextChoices):
        TEST = "test"
        TRIGGER = "trigger"
        SCHEDULE = "schedule"

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    explanation = models.TextField(blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(help_text="The run fails when it has not finished by then.")
    input = models.JSONField(default=dict, blank=True)
    flow = models.JSONField(default=dict, blank=True, help_text="The flow as it was when the run started.")
    operator_history = models.JSONField(default=list, blank=True)
    current_node = models.CharField(max_length=64, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-started_at",)
        indexes = [
            models.Index(fields=["automation", "-started_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["company", "ended_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.automation_id} {self.mode} {self.status}"


class AutomationSettings(CompanyOwnedModel):
    """Per-company automation settings: how long runs are kept (empty: the default)."""

    run_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days finished runs are kept; empty uses the default."
    )

    class Meta:
        verbose_name_plural = "automation settings"
        constraints = [models.UniqueConstraint(fields=["company"], name="automations_one_settings_per_company")]

    def __str__(self) -> str:
        return f"automation settings of {self.company_id}"
