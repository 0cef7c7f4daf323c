"""The admin pages of activities, actors, notes and automations, and their part of the OpenAPI schema."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.activities.models import ActivitySettings
from apps.activities.tests.factories import ActivityFactory
from apps.actors.tests.factories import ActorFactory
from apps.automations.models import AutomationRun, AutomationSettings
from apps.automations.services.runs import run_start
from apps.automations.tests.conftest import chain, make_automation, node
from apps.core.testing import PASSWORD
from apps.notes.services import note_save

pytestmark = pytest.mark.django_db

PAGES = {
    "activity": "/admin/activities/activity/",
    "activitysettings": "/admin/activities/activitysettings/",
    "actor": "/admin/actors/actor/",
    "note": "/admin/notes/note/",
    "automation": "/admin/automations/automation/",
    "automationrun": "/admin/automations/automationrun/",
    "automationsettings": "/admin/automations/automationsettings/",
}


@pytest.fixture
def rows(tenant, outsider):
    """One row of each kind for both companies."""
    made = {}
    for who in (tenant, outsider):
        activity = ActivityFactory(company=who.company)
        ActorFactory(company=who.company)
        ActivitySettings.objects.create(company=who.company, active_limit=3)
        AutomationSettings.objects.create(company=who.company, run_retention_days=7)
        note_save(company=who.company, actor=None, record_id=activity.pk, category="c", note="n")
        automation = make_automation(who.company, chain(node("a", "transform", value=1)))
        run_start(automation=automation, mode="test", input={})
        made[who.company.pk] = automation
    return made


def changelist_companies(response):
    assert response.status_code == 200, response.status_code
    return {obj.company_id for obj in response.context["cl"].queryset}


def test_a_superuser_sees_every_company_rows(rows, tenant, outsider):
    client = Client()
    client.force_login(User.objects.create_superuser("root@operator.test", PASSWORD, fname="R", lname="O"))
    for url in PAGES.values():
        assert changelist_companies(client.get(url)) == {tenant.company.pk, outsider.company.pk}, url
    run = AutomationRun.objects.filter(company=tenant.company).first()
    assert client.get(f"{PAGES['automationrun']}{run.pk}/change/").status_code == 200
    assert client.get(f"{PAGES['automation']}{rows[tenant.company.pk].pk}/change/").status_code == 200


def test_a_company_admin_sees_only_their_company_and_not_the_plan_limit(rows, tenant):
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    for url in PAGES.values():
        assert changelist_companies(client.get(url)) == {tenant.company.pk}, url
    settings_row = ActivitySettings.objects.get(company=tenant.company)
    response = client.post(f"{PAGES['activitysettings']}{settings_row.pk}/change/", {"active_limit": 1000})
    assert response.status_code == 403
    settings_row.refresh_from_db()
    assert settings_row.active_limit == 3


def test_the_schema_documents_the_endpoints_and_the_flow():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    paths = schema["paths"]
    for path in (
        "/api/v1/toolbox/tools/activities/get",
        "/api/v1/toolbox/tools/activity/clone",
        "/api/v1/toolbox/tools/actors/delete",
        "/api/v1/toolbox/tools/notes/get/{recordid}",
        "/api/v1/toolbox/tools/notes/save",
        "/api/v1/toolbox/tools/automation/history",
        "/api/v1/toolbox/tools/automations/get",
        "/api/v1/automations/trigger/{secret}",
    ):
        assert path in paths, path
    assert "202" in paths["/api/v1/automations/trigger/{secret}"]["post"]["responses"]
    text = json.dumps(schema)
    for operator in ("http_request", "condition", "transform", "delay", "note", "email"):
        assert f"`{operator}`" in text, operator
    assert "continue_on_error" in text and "sample_input" in text
