"""Fixtures of the registry tests: a Model Manager of the tenant and a model of each company."""

from __future__ import annotations

import pytest

from apps.accounts.roles import MODEL_MANAGER
from apps.models_registry.tests.factories import AIModelFactory

BASE = "/api/v1/toolbox/tools/"


@pytest.fixture
def modeler(tenant):
    """A member of the tenant with the Model Manager role."""
    return tenant.member([MODEL_MANAGER])


@pytest.fixture
def nlu(tenant):
    return AIModelFactory(company=tenant.company, name="Support bot")


@pytest.fixture
def foreign(outsider):
    """A model of another company: its id must answer like an unknown id."""
    return AIModelFactory(company=outsider.company, name="Globex bot")
