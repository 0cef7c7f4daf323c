"""Actor and Actors endpoints through the HTTP API: success, each failure, roles, other companies."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ACTIVITY_MANAGER, ACTOR_MANAGER
from apps.actors.models import Actor
from apps.actors.selectors import actor_system_prompt
from apps.actors.tests.factories import ActorFactory
from apps.core.exceptions import NotFound
from apps.core.testing import assert_envelope_error, assert_ok

GET = "/api/v1/toolbox/tools/actor/get"
SAVE = "/api/v1/toolbox/tools/actor/save"
LIST = "/api/v1/toolbox/tools/actors/get"
DELETE = "/api/v1/toolbox/tools/actors/delete"

pytestmark = pytest.mark.django_db

NEW = {
    "name": "New Actor",
    "description": "This is a new AI actor.",
    "isactive": True,
    "prompt": "Describe your task.",
    "personas": ["persona1", {"name": "persona2", "prompt": "Speak formally."}],
}


def test_save_creates_an_actor_with_personas_and_get_shows_it(tenant):
    body = assert_ok(tenant.admin.client.post(SAVE, NEW, format="json"))
    assert body["message"] == "Actor saved successfully."
    actor = Actor.objects.get(pk=body["actorid"])
    assert actor.company == tenant.company
    got = assert_ok(tenant.admin.client.get(GET, {"actorid": str(actor.pk)}))["actor"]
    assert got == {
        "actorid": str(actor.pk),
        "name": "New Actor",
        "description": "This is a new AI actor.",
        "isactive": True,
        "prompt": "Describe your task.",
        "personas": ["persona1", "persona2"],
        "personadetails": [{"name": "persona1", "prompt": ""}, {"name": "persona2", "prompt": "Speak formally."}],
    }


def test_save_updates_and_keeps_fields_left_out(tenant):
    actor = ActorFactory(company=tenant.company, prompt="Keep me.")
    update = {"actorid": str(actor.pk), "name": "Updated Actor", "personas": ["persona1", "persona3"]}
    assert_ok(tenant.member([ACTOR_MANAGER]).client.post(SAVE, update, format="json"))
    actor.refresh_from_db()
    assert actor.name == "Updated Actor"
    assert actor.persona_names == ["persona1", "persona3"]
    assert actor.prompt == "Keep me."


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"description": "no name"}, 400, "Missing name"),
        ({"name": " "}, 400, "name"),
        ({"name": "A", "personas": "persona1"}, 400, "personas"),
        ({"name": "A", "personas": ["same", "Same"]}, 400, "listed twice"),
        ({"name": "A", "personas": [{"prompt": "no name"}]}, 400, "personas"),
        ({"name": "A", "personas": [""]}, 400, "personas"),
        ({"name": "A", "personas": [{"name": "x", "prompt": 5}]}, 400, "prompt"),
        ({"name": "A", "actorid": str(uuid.uuid4())}, 404, "Actor not found"),
    ],
)
def test_save_refuses_bad_input_and_saves_nothing(tenant, payload, status, message):
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), status, message)
    assert not Actor.objects.exists()


def test_save_cannot_touch_another_company_actor(tenant, outsider):
    theirs = ActorFactory(company=outsider.company, name="Theirs")
    assert_envelope_error(
        tenant.admin.client.post(SAVE, {"actorid": str(theirs.pk), "name": "Mine"}, format="json"), 404
    )
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_get_failures(tenant, outsider, anon):
    theirs = ActorFactory(company=outsider.company)
    assert_envelope_error(tenant.admin.client.get(GET), 400, "Missing actorid")
    assert_envelope_error(tenant.admin.client.get(GET, {"actorid": "actor123"}), 404)
    assert_envelope_error(tenant.admin.client.get(GET, {"actorid": str(theirs.pk)}), 404, "Actor not found")
    assert_envelope_error(anon.get(GET, {"actorid": str(theirs.pk)}), 401)
    assert_envelope_error(tenant.member([ACTIVITY_MANAGER]).client.get(GET, {"actorid": str(theirs.pk)}), 403)


def test_list_with_isactive_roles_and_other_companies(tenant, outsider, anon):
    ActorFactory(company=tenant.company, name="A", is_active=True)
    ActorFactory(company=tenant.company, name="B", is_active=False)
    ActorFactory(company=outsider.company, name="C")
    client = tenant.admin.client
    assert [a["name"] for a in assert_ok(client.get(LIST))["actors"]] == ["A", "B"]
    assert [a["name"] for a in assert_ok(client.get(LIST, {"isactive": "true"}))["actors"]] == ["A"]
    assert [a["name"] for a in assert_ok(client.get(LIST, {"isactive": "false"}))["actors"]] == ["B"]
    assert len(assert_ok(tenant.key_client().get(LIST))["actors"]) == 2
    assert_envelope_error(anon.get(LIST), 401)
    assert_envelope_error(tenant.user.client.get(LIST), 403)


def test_delete_in_bulk_all_or_nothing(tenant, outsider, anon):
    first, second = ActorFactory.create_batch(2, company=tenant.company)
    theirs = ActorFactory(company=outsider.company)
    mixed = {"actors": [str(first.pk), str(theirs.pk)]}
    assert_envelope_error(tenant.admin.client.delete(DELETE, mixed, format="json"), 404)
    assert_envelope_error(anon.delete(DELETE, mixed, format="json"), 401)
    assert_envelope_error(tenant.user.client.delete(DELETE, mixed, format="json"), 403)
    assert_envelope_error(tenant.admin.client.delete(DELETE, {}, format="json"), 400, "Missing actors")
    assert Actor.objects.count() == 3
    body = assert_ok(tenant.admin.client.delete(f"{DELETE}?actors={first.pk},{second.pk}"))
    assert body["message"] == "Actors deleted successfully."
    assert list(Actor.objects.all()) == [theirs]


def test_system_prompt_for_a_chat_with_an_actor_and_persona(tenant, outsider):
    actor = ActorFactory(company=tenant.company, name="Guide", description="", prompt="Answer briefly.")
    text = actor_system_prompt(company=tenant.company, actor_id=actor.pk, persona="pirate")
    assert text == "You are Guide.\n\nAnswer briefly.\n\nPersona: Pirate.\n\nTalk like a pirate."
    with pytest.raises(NotFound):
        actor_system_prompt(company=tenant.company, actor_id=actor.pk, persona="Ninja")
    with pytest.raises(NotFound):
        actor_system_prompt(company=outsider.company, actor_id=actor.pk)


def test_save_needs_the_actor_manager_role(tenant, anon):
    assert_envelope_error(anon.post(SAVE, NEW, format="json"), 401)
    assert_envelope_error(tenant.user.client.post(SAVE, NEW, format="json"), 403)
    assert_envelope_error(tenant.member([ACTIVITY_MANAGER]).client.post(SAVE, NEW, format="json"), 403)
    assert not Actor.objects.exists()
    assert_ok(tenant.key_client().post(SAVE, NEW, format="json"))
