"""Activities and Activity endpoints through the HTTP API: success, each failure, roles, other companies."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ACTIVITY_MANAGER, ACTOR_MANAGER
from apps.activities.models import Activity, ActivitySettings
from apps.activities.services import ACTIVE_LIMIT_REACHED
from apps.activities.tests.factories import ActivityFactory
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.tests.factories import AIModelFactory


@pytest.fixture(autouse=True)
def _unlimited_plans(request, tenant, outsider):
    """These tests exercise the company's own limit; the plan's limit has its own test below."""
    if "plan_limit" in request.keywords:
        return
    for company in (tenant.company, outsider.company):
        company.plan = "ENTERPRISE_MONTHLY"
        company.save(update_fields=["plan"])


LIST = "/api/v1/toolbox/tools/activities/get"
DELETE = "/api/v1/toolbox/tools/activities/delete"
GET = "/api/v1/toolbox/tools/activity/get"
SAVE = "/api/v1/toolbox/tools/activity/save"
CLONE = "/api/v1/toolbox/tools/activity/clone"

pytestmark = pytest.mark.django_db


def model_of(company):
    return str(AIModelFactory(company=company).pk)


def new_activity(company, **fields):
    """A save payload naming a model of `company`."""
    return {"name": "Greeter", "modelid": model_of(company), "description": "d", "prompt": "p", **fields}


# --- list ------------------------------------------------------------------------------------


def test_list_shows_the_company_activities_in_the_spec_shape(tenant, outsider):
    mine = ActivityFactory(company=tenant.company, name="A", is_active=True)
    ActivityFactory(company=tenant.company, name="B", is_active=False)
    ActivityFactory(company=outsider.company, name="Theirs")
    body = assert_ok(tenant.admin.client.get(LIST))
    assert [a["name"] for a in body["activities"]] == ["A", "B"]
    assert body["activities"][0] == {
        "isactive": True,
        "activityid": str(mine.pk),
        "name": "A",
        "modelid": str(mine.model_id),
        "description": mine.description,
        "prompt": mine.prompt,
    }


@pytest.mark.parametrize(("flag", "names"), [("true", ["A"]), ("false", ["B"])])
def test_list_filters_by_isactive(tenant, flag, names):
    ActivityFactory(company=tenant.company, name="A", is_active=True)
    ActivityFactory(company=tenant.company, name="B", is_active=False)
    body = assert_ok(tenant.admin.client.get(LIST, {"isactive": flag}))
    assert [a["name"] for a in body["activities"]] == names


def test_list_refuses_a_bad_isactive(tenant):
    assert_envelope_error(tenant.admin.client.get(LIST, {"isactive": "maybe"}), 400, "isactive")


def test_roles_anonymous_and_key_pair(tenant, anon):
    ActivityFactory(company=tenant.company)
    assert_envelope_error(anon.get(LIST), 401)
    assert_envelope_error(tenant.user.client.get(LIST), 403)
    assert_envelope_error(tenant.member([ACTOR_MANAGER]).client.get(LIST), 403)
    assert_envelope_error(tenant.user.client.post(SAVE, new_activity(tenant.company), format="json"), 403)
    assert len(assert_ok(tenant.member([ACTIVITY_MANAGER]).client.get(LIST))["activities"]) == 1
    assert len(assert_ok(tenant.key_client().get(LIST))["activities"]) == 1
    assert Activity.objects.count() == 1


# --- get -------------------------------------------------------------------------------------


def test_get_one(tenant):
    activity = ActivityFactory(company=tenant.company, name="One")
    body = assert_ok(tenant.admin.client.get(GET, {"activityid": str(activity.pk)}))
    assert body["activity"]["activityid"] == str(activity.pk)
    assert body["activity"]["name"] == "One"


def test_get_failures(tenant, outsider, anon):
    theirs = ActivityFactory(company=outsider.company)
    assert_envelope_error(tenant.admin.client.get(GET), 400, "Missing activityid")
    assert_envelope_error(tenant.admin.client.get(GET, {"activityid": str(uuid.uuid4())}), 404, "Activity not found")
    assert_envelope_error(tenant.admin.client.get(GET, {"activityid": "not-an-id"}), 404)
    assert_envelope_error(tenant.admin.client.get(GET, {"activityid": str(theirs.pk)}), 404, "Activity not found")
    assert_envelope_error(anon.get(GET, {"activityid": str(theirs.pk)}), 401)
    assert_envelope_error(tenant.user.client.get(GET, {"activityid": str(theirs.pk)}), 403)


# --- save ------------------------------------------------------------------------------------


def test_save_creates_then_updates(tenant):
    body = assert_ok(tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"))
    assert body["message"] == "Activity saved successfully."
    activity = Activity.objects.get(pk=body["activityid"])
    assert activity.company == tenant.company and activity.is_active and activity.prompt == "p"
    model = model_of(tenant.company)
    update = {"activityid": str(activity.pk), "name": "Renamed", "modelid": model, "isactive": False}
    body = assert_ok(tenant.member([ACTIVITY_MANAGER]).client.post(SAVE, update, format="json"))
    assert body["activityid"] == str(activity.pk)
    activity.refresh_from_db()
    assert (activity.name, str(activity.model_id), activity.is_active) == ("Renamed", model, False)
    assert activity.prompt == "p", "fields left out keep their value"
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"modelid": str(uuid.uuid4())}, 400, "Missing name"),
        ({"name": "  ", "modelid": str(uuid.uuid4())}, 400, "name"),
        ({"name": "X"}, 400, "Missing modelid"),
        ({"name": "X", "modelid": "model123"}, 400, "Invalid modelid"),
        ({"name": "X", "modelid": str(uuid.uuid4()), "isactive": "perhaps"}, 400, "isactive"),
        ({"name": "X", "modelid": str(uuid.uuid4()), "activityid": str(uuid.uuid4())}, 404, "Activity not found"),
    ],
)
def test_save_refuses_bad_input_and_saves_nothing(tenant, payload, status, message):
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), status, message)
    assert not Activity.objects.exists()


def test_save_cannot_touch_another_company_activity(tenant, outsider):
    theirs = ActivityFactory(company=outsider.company, name="Theirs")
    payload = new_activity(tenant.company, activityid=str(theirs.pk), name="Hijacked")
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 404)
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert Activity.objects.count() == 1


def test_the_model_must_be_one_of_the_company(tenant, outsider):
    their_model = model_of(outsider.company)
    client = tenant.admin.client
    for modelid in (their_model, str(uuid.uuid4())):
        payload = {**new_activity(tenant.company), "modelid": modelid}
        assert assert_envelope_error(client.post(SAVE, payload, format="json"), 404)["error"] == "Model not found."
    assert not Activity.objects.exists()
    # An update to another company's model changes nothing either.
    mine = ActivityFactory(company=tenant.company, name="Mine")
    kept = mine.model_id
    update = {"activityid": str(mine.pk), "name": "Changed", "modelid": their_model}
    assert_envelope_error(client.post(SAVE, update, format="json"), 404, "Model not found")
    mine.refresh_from_db()
    assert (mine.name, mine.model_id) == ("Mine", kept)
    # The outsider may use their own model.
    assert_ok(
        outsider.admin.client.post(SAVE, {**new_activity(outsider.company), "modelid": their_model}, format="json")
    )


# --- the limit of active activities -------------------------------------------------------------


def test_activating_beyond_the_limit_answers_the_spec_message(tenant, outsider, settings):
    settings.ACTIVITY_ACTIVE_LIMIT_DEFAULT = 2
    ActivityFactory.create_batch(2, company=outsider.company, is_active=True)  # other companies do not count
    client = tenant.admin.client
    for _ in range(2):
        assert_ok(client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"))
    body = assert_envelope_error(client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"), 400)
    assert body["error"] == ACTIVE_LIMIT_REACHED
    assert Activity.objects.for_company(tenant.company).count() == 2
    # An inactive one may be created, but not activated.
    inactive = assert_ok(client.post(SAVE, new_activity(tenant.company, isactive=False), format="json"))["activityid"]
    activate = new_activity(tenant.company, activityid=inactive, isactive=True)
    assert_envelope_error(client.post(SAVE, activate, format="json"), 400, "maximum number of activities")
    assert not Activity.objects.get(pk=inactive).is_active
    # An active one may still be edited; deactivating one frees a slot.
    active = Activity.objects.for_company(tenant.company).filter(is_active=True).first()
    assert_ok(client.post(SAVE, new_activity(tenant.company, activityid=str(active.pk), name="Edited"), format="json"))
    assert_ok(client.post(SAVE, new_activity(tenant.company, activityid=str(active.pk), isactive=False), format="json"))
    assert_ok(client.post(SAVE, activate, format="json"))
    assert Activity.objects.for_company(tenant.company).filter(is_active=True).count() == 2


def test_the_limit_is_set_per_company(tenant, outsider, settings):
    settings.ACTIVITY_ACTIVE_LIMIT_DEFAULT = 5
    ActivitySettings.objects.create(company=tenant.company, active_limit=1)
    assert_ok(tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"))
    assert_envelope_error(
        tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"), 400
    )
    for _ in range(2):
        assert_ok(outsider.admin.client.post(SAVE, new_activity(outsider.company, isactive=True), format="json"))


def test_cloning_an_active_activity_at_the_limit_is_refused(tenant, settings):
    settings.ACTIVITY_ACTIVE_LIMIT_DEFAULT = 1
    original = ActivityFactory(company=tenant.company, is_active=True)
    body = tenant.admin.client.post(CLONE, {"activityid": str(original.pk), "name": "Copy"}, format="json")
    assert assert_envelope_error(body, 400)["error"] == ACTIVE_LIMIT_REACHED
    assert Activity.objects.count() == 1


@pytest.mark.plan_limit
def test_the_plans_limit_applies_with_the_spec_message(tenant):
    # The NONE plan allows one active activity; the company's own setting is higher.
    assert_ok(tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"))
    body = assert_envelope_error(
        tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"), 400
    )
    assert body["error"] == ACTIVE_LIMIT_REACHED
    assert body["plan"] == "NONE"
    tenant.company.plan = "STANDARD_MONTHLY"
    tenant.company.save(update_fields=["plan"])
    assert_ok(tenant.admin.client.post(SAVE, new_activity(tenant.company, isactive=True), format="json"))


# --- clone -----------------------------------------------------------------------------------


def test_clone_copies_every_setting_under_a_new_id_and_name(tenant):
    original = ActivityFactory(company=tenant.company, is_active=True, prompt="Be kind.")
    body = assert_ok(tenant.admin.client.post(CLONE, {"activityid": str(original.pk), "name": "Copy"}, format="json"))
    assert body["message"] == "Activity cloned successfully."
    clone = Activity.objects.get(pk=body["activityid"])
    assert clone.pk != original.pk and clone.name == "Copy"
    fields = ("description", "prompt", "is_active", "model_id", "company_id")
    assert [getattr(clone, f) for f in fields] == [getattr(original, f) for f in fields]


def test_clone_failures(tenant, outsider, anon):
    theirs = ActivityFactory(company=outsider.company)
    client = tenant.admin.client
    assert_envelope_error(client.post(CLONE, {"name": "Copy"}, format="json"), 400, "Missing activityid")
    assert_envelope_error(client.post(CLONE, {"activityid": str(theirs.pk)}, format="json"), 400, "Missing name")
    assert_envelope_error(client.post(CLONE, {"activityid": str(theirs.pk), "name": "C"}, format="json"), 404)
    assert_envelope_error(anon.post(CLONE, {"activityid": str(theirs.pk), "name": "C"}, format="json"), 401)
    assert_envelope_error(tenant.user.client.post(CLONE, {"activityid": "x", "name": "C"}, format="json"), 403)
    assert Activity.objects.count() == 1


# --- delete ----------------------------------------------------------------------------------


def test_delete_in_bulk_by_body_or_query(tenant):
    first, second, third = ActivityFactory.create_batch(3, company=tenant.company)
    body = tenant.admin.client.delete(DELETE, {"activities": [str(first.pk), str(second.pk)]}, format="json")
    assert assert_ok(body)["message"] == "Activities deleted successfully."
    assert list(Activity.objects.values_list("pk", flat=True)) == [third.pk]
    assert_ok(tenant.admin.client.delete(f"{DELETE}?activities={third.pk}"))
    assert not Activity.objects.exists()


def test_delete_is_all_or_nothing_and_cannot_reach_another_company(tenant, outsider, anon):
    mine = ActivityFactory(company=tenant.company)
    theirs = ActivityFactory(company=outsider.company)
    payload = {"activities": [str(mine.pk), str(theirs.pk)]}
    assert_envelope_error(tenant.admin.client.delete(DELETE, payload, format="json"), 404, str(theirs.pk))
    assert_envelope_error(tenant.admin.client.delete(DELETE, {"activities": []}, format="json"), 400)
    assert_envelope_error(anon.delete(DELETE, payload, format="json"), 401)
    assert_envelope_error(tenant.user.client.delete(DELETE, payload, format="json"), 403)
    assert Activity.objects.count() == 2


def test_system_prompt_for_a_chat_with_an_activity(tenant, outsider):
    from apps.activities.selectors import activity_system_prompt
    from apps.core.exceptions import NotFound

    activity = ActivityFactory(company=tenant.company, name="Intake", description="Collects details.", prompt="Ask.")
    assert activity_system_prompt(company=tenant.company, activity_id=activity.pk) == (
        "Activity: Intake.\n\nCollects details.\n\nAsk."
    )
    with pytest.raises(NotFound):
        activity_system_prompt(company=outsider.company, activity_id=activity.pk)
