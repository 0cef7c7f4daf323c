"""Notes through the HTTP API: on records of several kinds, by any member, never on another company's."""

from __future__ import annotations

import uuid

import pytest

from apps.activities.tests.factories import ActivityFactory
from apps.actors.tests.factories import ActorFactory
from apps.core.records import record_kind
from apps.core.testing import assert_envelope_error, assert_ok
from apps.notes.models import Note

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


def test_notes_attach_to_records_of_every_registered_kind(tenant):
    records = {
        "activity": ActivityFactory(company=tenant.company).pk,
        "actor": ActorFactory(company=tenant.company).pk,
        "user": tenant.manager.user.pk,
    }
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
