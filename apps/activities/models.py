"""Activities: a named task with a model, a description and a prompt, active or not."""

from __future__ import annotations

from django.db import models

from apps.core.models import CompanyOwnedModel


class Activity(CompanyOwnedModel):
    """An activity of a company; `model_id` names a model of the company's registry."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    # A model of the registry; the registry app owns the models, so this is an id, not a foreign key.
    model_id = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ("name", "created_at")
        indexes = [models.Index(fields=["company", "is_active"])]

    def __str__(self) -> str:
        return self.name


class ActivitySettings(CompanyOwnedModel):
    """Per-company activity settings: the limit of active activities (empty: the default)."""

    active_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many activities may be active at once; empty uses the default."
    )

    class Meta:
        verbose_name_plural = "activity settings"
        constraints = [models.UniqueConstraint(fields=["company"], name="activities_one_settings_per_company")]

    def __str__(self) -> str:
        return f"activity settings of {self.company_id}"
