"""Base models: opaque UUID ids, timestamps, and the one company scoping mechanism."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Self

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.db.models import Model


class UUIDModel(models.Model):
    """A model whose id is an opaque UUID, with creation and change times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CompanyScopedQuerySet(models.QuerySet):
    """The only way company-owned rows are reached: `Model.objects.for_company(company)`."""

    company_field = "company"

    def for_company(self, company: Model | None) -> Self:
        if company is None:
            return self.none()
        return self.filter(**{self.company_field: company})


class CompanyScopedManager(models.Manager.from_queryset(CompanyScopedQuerySet)):  # type: ignore[misc]
    """Manager exposing `for_company`."""


class CompanyOwnedModel(UUIDModel):
    """A row that belongs to exactly one company."""

    company = models.ForeignKey(settings.TENANT_MODEL, on_delete=models.CASCADE, related_name="+")

    objects: Any = CompanyScopedManager()

    class Meta:
        abstract = True
