"""bootstrap_company: an operator's ready company in one command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.accounts.models import Company, User
from apps.accounts.roles import COMPANY_ADMIN
from apps.core.testing import assert_envelope_error, assert_ok


def bootstrap(*args: str) -> dict:
    out = StringIO()
    call_command("bootstrap_company", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
def test_bootstrap_company_prints_working_credentials():
    result = bootstrap(
        "--name",
        "Initech",
        "--email",
        "Boss@Initech.test",
        "--password",
        "Str0ng-Passw0rd!",
        "--plan",
        "PREMIUM_MONTHLY",
    )
    assert set(result) == {"groupid", "userid", "email", "apikey", "enckey"}
    company = Company.objects.get(pk=result["groupid"])
    assert (company.name, company.plan) == ("Initech", "PREMIUM_MONTHLY")
    user = User.objects.get(pk=result["userid"])
    assert (user.email, user.roles, user.email_confirmed) == ("boss@initech.test", [COMPANY_ADMIN], True)

    keys = APIClient()
    keys.credentials(HTTP_X_API_KEY=result["apikey"], HTTP_X_ENC_KEY=result["enckey"])
    assert assert_ok(keys.post("/api/v1/auth/confirm"))["group"]["groupid"] == result["groupid"]
    login = APIClient().post("/api/v1/login", {"email": "boss@initech.test", "password": "Str0ng-Passw0rd!"})
    assert assert_ok(login)["user"]["groupid"] == result["groupid"]


@pytest.mark.django_db
def test_bootstrap_company_refuses_a_taken_email_and_a_weak_password():
    bootstrap("--name", "A", "--email", "a@a.test", "--password", "Str0ng-Passw0rd!")
    with pytest.raises(CommandError, match="already in use"):
        bootstrap("--name", "B", "--email", "A@a.test", "--password", "Str0ng-Passw0rd!")
    with pytest.raises(CommandError, match="password"):
        bootstrap("--name", "C", "--email", "c@c.test", "--password", "123")
    assert Company.objects.count() == 1


@pytest.mark.django_db
def test_bootstrap_company_reuse_renews_keys_of_the_existing_company():
    first = bootstrap("--name", "A", "--email", "a@a.test", "--password", "Str0ng-Passw0rd!")
    second = bootstrap("--name", "A", "--email", "a@a.test", "--password", "An0ther-Passw0rd!", "--reuse")
    assert second["groupid"] == first["groupid"]
    assert second["apikey"] != first["apikey"]
    old = APIClient()
    old.credentials(HTTP_X_API_KEY=first["apikey"], HTTP_X_ENC_KEY=first["enckey"])
    assert_envelope_error(old.post("/api/v1/auth/confirm"), 401)
    assert User.objects.get(email="a@a.test").check_password("An0ther-Passw0rd!")
    assert Company.objects.count() == 1


@pytest.mark.django_db
def test_bootstrap_company_refuses_an_unknown_plan():
    with pytest.raises(CommandError):
        bootstrap("--name", "A", "--email", "a@a.test", "--password", "Str0ng-Passw0rd!", "--plan", "GOLD")
    assert not Company.objects.exists()
