"""Notes through the HTTP API: on records of several kinds, by any member, never on another company's."""

from __future__ import annotations

import uuid

import pytest

from apps.activities.tests.factories import ActivityFactory
from apps.actors.tests.factories import ActorFactory
from apps.automations.services.automations import automation_save
from apps.chat.services import chat_new
from apps.core.records import record_kind
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.tests.factories import AIModelFactory
from apps.notes.models import Note
from apps.transcripts.models import Transcript

GET = "/api/v1/toolbox/tools/notes/get"
SAVE = "/api/v1/toolbox/tools/notes/save"

pytestmark = pytest.mark.django_db


def test_save_then_get_by_path_and_by_query(tenant):
    activity = ActivityFactory(company=tenant.company)
    client = tenant.user.client  # notes list no roles: any member of the company
    payload = {"recordid": str(activity.pk), "category": "general", "note": "This is a note content."}
    body = assert_ok(client.post(SAVE, payload, format="json"))
    assert body["message"] == "Note saved successfully."
    assert_ok(tenant.admin.client.post(SAVE, {**payload, "note": "Second."}, format="json"))
    by_path = assert_ok(client.get(f"{GET}/{activity.pk}"))
    by_query = assert_ok(client.get(GET, {"recordid": str(activity.pk)}))
    assert by_path == by_query
    first, second = by_path["notes"]
    assert first["note"] == "This is a note content."
    assert first["category"] == "general"
    assert (first["fname"], first["lname"]) == (tenant.user.user.fname, tenant.user.user.lname)
    assert first["userid"] == str(tenant.user.user.pk)
    assert first["noteid"] == body["noteid"]
    assert first["created"].endswith("Z")
    assert second["note"] == "Second."


def records_of(company, user):
    """One record of each kind the issue names, in `company`."""
    return {
        "model": AIModelFactory(company=company).pk,
        "activity": ActivityFactory(company=company).pk,
        "actor": ActorFactory(company=company).pk,
        "automation": automation_save(company=company, actor=None, name="Flow").pk,
        "transcript": Transcript.objects.create(company=company, reference_label="Call 1").pk,
        "chat": chat_new(company=company, user=user, title="Hello").pk,
        "user": user.pk,
    }


def test_notes_attach_to_records_of_every_registered_kind(tenant):
    records = records_of(tenant.company, tenant.manager.user)
    for kind, pk in records.items():
        assert record_kind(company=tenant.company, record_id=pk) == kind
        assert_ok(tenant.admin.client.post(SAVE, {"recordid": str(pk), "category": kind, "note": "n"}, format="json"))
    assert dict(Note.objects.values_list("record_kind", "category")) == {k: k for k in records}


def test_a_key_pair_writes_notes_without_a_person(tenant):
    actor = ActorFactory(company=tenant.company)
    assert_ok(tenant.key_client().post(SAVE, {"recordid": str(actor.pk), "category": "c", "note": "n"}, format="json"))
    note = assert_ok(tenant.admin.client.get(f"{GET}/{actor.pk}"))["notes"][0]
    assert (note["fname"], note["lname"], note["userid"], note["author"]) == ("", "", None, "API key")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"category": "general", "note": "n"}, "Missing recordid"),
        ({"recordid": "RECORD", "note": "n"}, "Missing category"),
        ({"recordid": "RECORD", "category": "general"}, "Missing note"),
        ({"recordid": "RECORD", "category": "general", "note": "   "}, "note"),
    ],
)
def test_save_refuses_missing_fields(tenant, payload, message):
    activity = ActivityFactory(company=tenant.company)
    payload = {k: (str(activity.pk) if v == "RECORD" else v) for k, v in payload.items()}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 400, message)
    assert not Note.objects.exists()


def test_records_of_another_company_or_unknown_are_not_found(tenant, outsider, anon):
    theirs = ActivityFactory(company=outsider.company)
    assert_ok(
        outsider.admin.client.post(SAVE, {"recordid": str(theirs.pk), "category": "c", "note": "secret"}, format="json")
    )
    for record in (str(theirs.pk), str(uuid.uuid4()), "record123", str(outsider.admin.user.pk)):
        payload = {"recordid": record, "category": "c", "note": "n"}
        assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 404, "Record not found")
        assert_envelope_error(tenant.admin.client.get(f"{GET}/{record}"), 404, "Record not found")
    assert Note.objects.count() == 1
    assert_envelope_error(anon.get(f"{GET}/{theirs.pk}"), 401)
    assert_envelope_error(
        anon.post(SAVE, {"recordid": str(theirs.pk), "category": "c", "note": "n"}, format="json"), 401
    )


def test_no_kind_of_record_of_another_company_is_found(tenant, outsider):
    theirs = records_of(outsider.company, outsider.manager.user)
    client = tenant.admin.client
    for kind, pk in theirs.items():
        assert record_kind(company=tenant.company, record_id=pk) is None, kind
        payload = {"recordid": str(pk), "category": "c", "note": "n"}
        assert_envelope_error(client.post(SAVE, payload, format="json"), 404, "Record not found")
        assert_envelope_error(client.get(f"{GET}/{pk}"), 404, "Record not found")
    assert not Note.objects.exists()


def test_notes_on_a_model_through_the_api(tenant, outsider):
    model = AIModelFactory(company=tenant.company)
    payload = {"recordid": str(model.pk), "category": "training", "note": "Needs more examples."}
    assert_ok(tenant.manager.client.post(SAVE, payload, format="json"))
    notes = assert_ok(tenant.admin.client.get(f"{GET}/{model.pk}"))["notes"]
    assert [(n["category"], n["note"]) for n in notes] == [("training", "Needs more examples.")]
    assert Note.objects.get().record_kind == "model"
    assert_envelope_error(outsider.admin.client.get(f"{GET}/{model.pk}"), 404, "Record not found")
    model.delete()  # a record's notes go with it
    assert not Note.objects.exists()


def test_get_without_a_record_id(tenant):
    assert_envelope_error(tenant.admin.client.get(GET), 400, "Missing recordid")


def test_a_record_notes_go_when_it_is_deleted(tenant):
    activity = ActivityFactory(company=tenant.company)
    kept = ActivityFactory(company=tenant.company)
    for record in (activity, kept):
        assert_ok(
            tenant.admin.client.post(SAVE, {"recordid": str(record.pk), "category": "c", "note": "n"}, format="json")
        )
    assert_ok(
        tenant.admin.client.delete(
            "/api/v1/toolbox/tools/activities/delete", {"activities": [str(activity.pk)]}, format="json"
        )
    )
    assert list(Note.objects.values_list("record_id", flat=True)) == [kept.pk]
