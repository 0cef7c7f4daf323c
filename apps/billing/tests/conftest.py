"""Billing fixtures: an Accounting Manager of the tenant."""

from __future__ import annotations

import pytest

from apps.accounts.roles import ACCOUNTING_MANAGER
from apps.core.testing import Member, Tenant


@pytest.fixture
def accountant(tenant: Tenant) -> Member:
    """The tenant's Accounting Manager."""
    return tenant.member([ACCOUNTING_MANAGER], email="accounts@acme.test")
