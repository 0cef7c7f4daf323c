"""Reads of companies and users, always scoped to the caller's company."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import Company, User


def user_list(*, company: Company) -> QuerySet[User]:
    """The company's users, by email."""
    return User.objects.for_company(company).filter(is_superuser=False).order_by("email")


def company_get(*, company: Company) -> Company:
    """The caller's company, fresh from the database."""
    return Company.objects.for_company(company).get()
