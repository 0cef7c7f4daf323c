"""Intent(s), Slot(s) and Vocabulary endpoints: roles, other companies' ids, validation, shapes."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import Intent, Slot, VocabularyEntry
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import IntentFactory, SlotFactory, VocabularyFactory

INTENTS_GET = BASE + "models/intents/get"
INTENTS_DELETE = BASE + "models/intents/delete"
INTENT_SAVE = BASE + "models/intent/save"
SLOT_GET = BASE + "models/slot/get"
SLOT_SAVE = BASE + "models/slot/save"
SLOTS_GET = BASE + "models/slots/get"
SLOTS_DELETE = BASE + "models/slots/delete"
VOCAB_GET = BASE + "models/vocabulary/get"
VOCAB_SAVE = BASE + "models/vocabulary/save"
VOCAB_DELETE = BASE + "models/vocabulary/delete"


def calls(model_id: str, row_id: str):
    return [
        ("get", INTENTS_GET, {"modelid": model_id}),
        ("delete", INTENTS_DELETE, {"intents": [row_id]}),
        ("post", INTENT_SAVE, {"modelid": model_id, "intent": "new"}),
        ("get", SLOT_GET, {"modelid": model_id, "name": "x"}),
        ("post", SLOT_SAVE, {"modelid": model_id, "name": "n", "intent": "i"}),
        ("get", SLOTS_GET, {"modelid": model_id}),
        ("delete", SLOTS_DELETE, {"modelid": model_id, "slots": [row_id]}),
        ("get", VOCAB_GET, {"modelid": model_id}),
        ("post", VOCAB_SAVE, {"modelid": model_id, "text": "word"}),
        ("delete", VOCAB_DELETE, {"modelid": model_id, "id": row_id}),
    ]


def send(client, method, path, payload):
    if method == "get":
        return client.get(path, payload)
    return getattr(client, method)(path, payload, format="json")


@pytest.mark.parametrize("index", range(10))
def test_anonymous_and_roles_that_may_not(anon, tenant, nlu, index):
    intent = IntentFactory(model=nlu, name="keep")
    method, path, payload = calls(str(nlu.pk), str(intent.pk))[index]
    assert_envelope_error(send(anon, method, path, payload), 401)
    for role in ALL_ROLES:
        if role not in (COMPANY_ADMIN, MODEL_MANAGER):
            assert_envelope_error(send(tenant.member([role]).client, method, path, payload), 403)
    assert list(Intent.objects.values_list("name", flat=True)) == ["keep"]
    assert not Slot.objects.exists() and not VocabularyEntry.objects.exists()


@pytest.mark.parametrize("index", range(10))
def test_another_companys_model_is_not_found(tenant, foreign, index):
    intent = IntentFactory(model=foreign, name="theirs")
    slot = SlotFactory(model=foreign, name="x")
    VocabularyFactory(model=foreign, term="theirs")
    method, path, payload = calls(str(foreign.pk), str(intent.pk))[index]
    if path == SLOTS_DELETE:
        payload["slots"] = [str(slot.pk)]
    assert_envelope_error(send(tenant.admin.client, method, path, payload), 404, "not found")
    assert Intent.objects.get().name == "theirs"
    assert Slot.objects.count() == 1 and VocabularyEntry.objects.count() == 1


@pytest.mark.parametrize("index", [0, 2, 3, 4, 5, 6, 7, 8, 9])
def test_modelid_is_required(tenant, index):
    method, path, payload = calls("x", "y")[index]
    payload.pop("modelid")
    assert_envelope_error(send(tenant.admin.client, method, path, payload), 400, "Missing modelid.")


# --- intents ------------------------------------------------------------------------------------------------------


def test_intent_create_update_list(tenant, modeler, nlu, foreign):
    IntentFactory(model=foreign, name="theirs")
    created = assert_ok(modeler.client.post(INTENT_SAVE, {"modelid": str(nlu.pk), "intent": "New Intent"}))
    assert created["message"] == "Intent saved successfully."
    payload = {
        "modelid": str(nlu.pk),
        "intentid": created["intentid"],
        "intent": "Updated Intent",
        "utterances": ["hello", "hello", " hi "],
        "answer": "Hi!",
    }
    assert_ok(modeler.client.post(INTENT_SAVE, payload, format="json"))
    body = assert_ok(modeler.client.get(INTENTS_GET, {"modelid": str(nlu.pk)}))
    assert body["intents"] == [
        {
            "intentid": created["intentid"],
            "modelid": str(nlu.pk),
            "name": "Updated Intent",
            "isactive": True,
            "utterances": ["hello", "hi"],
            "answer": "Hi!",
        }
    ]


def test_intent_names_are_unique_in_a_model(tenant, nlu):
    IntentFactory(model=nlu, name="greeting")
    response = tenant.admin.client.post(INTENT_SAVE, {"modelid": str(nlu.pk), "intent": "greeting"})
    assert_envelope_error(response, 409, "already has an intent")
    assert Intent.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"intent": ""}, 400, "intent"),
        ({}, 400, "Missing intent."),
        ({"intent": "x", "intentid": "nope"}, 404, "Intent not found"),
        ({"intent": "x", "intentid": "FOREIGN"}, 404, "Intent not found"),
        ({"intent": "x", "utterances": "hello"}, 400, "utterances"),
    ],
)
def test_intent_save_validation(tenant, nlu, foreign, payload, status, message):
    theirs = IntentFactory(model=foreign, name="theirs")
    payload = {"modelid": str(nlu.pk), **payload}
    if payload.get("intentid") == "FOREIGN":
        payload["intentid"] = str(theirs.pk)
    assert_envelope_error(tenant.admin.client.post(INTENT_SAVE, payload, format="json"), status, message)
    assert list(Intent.objects.values_list("name", flat=True)) == ["theirs"]


def test_intents_delete_removes_their_slots_all_or_nothing(tenant, nlu, foreign):
    a = IntentFactory(model=nlu, name="a")
    b = IntentFactory(model=nlu, name="b")
    SlotFactory(model=nlu, intent="a", name="city")
    kept_slot = SlotFactory(model=nlu, intent="b", name="date")
    theirs = IntentFactory(model=foreign)
    response = tenant.admin.client.delete(INTENTS_DELETE, {"intents": [str(a.pk), str(theirs.pk)]}, format="json")
    assert_envelope_error(response, 404)
    assert Intent.objects.count() == 3
    body = assert_ok(tenant.admin.client.delete(INTENTS_DELETE, {"intents": [str(a.pk)]}, format="json"))
    assert body["message"] == "Intents deleted successfully."
    assert set(Intent.objects.values_list("pk", flat=True)) == {b.pk, theirs.pk}
    assert list(Slot.objects.all()) == [kept_slot]
    assert_envelope_error(tenant.admin.client.delete(INTENTS_DELETE, {"intents": []}, format="json"), 400)


# --- slots ----------------------------------------------------------------------------------------------------------


SLOT = {
    "name": "New Slot",
    "intent": "Get Info",
    "language": "en",
    "description": "This is a new slot.",
    "isrequired": False,
    "followup": "Can you provide more details?",
    "conditions": "[]",
}


def test_slot_create_get_update_list(tenant, modeler, nlu):
    created = assert_ok(modeler.client.post(SLOT_SAVE, {"modelid": str(nlu.pk), **SLOT}, format="json"))
    assert created["message"] == "Slot saved successfully."
    update = {
        **SLOT,
        "modelid": str(nlu.pk),
        "slotid": created["slotid"],
        "name": "city",
        "isrequired": True,
        "followup": "Which city?",
        "conditions": '[{"value": "paris", "synonyms": ["cdg"]}, "london"]',
    }
    assert_ok(modeler.client.post(SLOT_SAVE, update, format="json"))
    one = assert_ok(modeler.client.get(SLOT_GET, {"modelid": str(nlu.pk), "name": "city"}))
    expected = {
        "slotid": created["slotid"],
        "modelid": str(nlu.pk),
        "name": "city",
        "intent": "Get Info",
        "language": "en",
        "description": "This is a new slot.",
        "isrequired": True,
        "isactive": True,
        "followup": {"question": "Which city?"},
        "conditions": [{"value": "paris", "synonyms": ["cdg"]}, "london"],
    }
    assert one == {"success": True, **expected}
    listed = assert_ok(modeler.client.get(SLOTS_GET, {"modelid": str(nlu.pk)}))
    assert listed["slots"] == [expected]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"name": None}, 400, "Missing name."),
        ({"intent": None}, 400, "Missing intent."),
        ({"conditions": "{bad"}, 400, "conditions"),
        ({"conditions": '{"a": 1}'}, 400, "JSON array"),
        ({"isrequired": True, "followup": ""}, 400, "followup"),
        ({"language": "english-please"}, 400, "language"),
        ({"slotid": "garbage"}, 404, "Slot not found"),
    ],
)
def test_slot_save_validation(tenant, nlu, change, status, message):
    payload = {k: v for k, v in {"modelid": str(nlu.pk), **SLOT, **change}.items() if v is not None}
    assert_envelope_error(tenant.admin.client.post(SLOT_SAVE, payload, format="json"), status, message)
    assert not Slot.objects.exists()


def test_slot_names_are_unique_and_foreign_slots_untouched(tenant, nlu, foreign):
    SlotFactory(model=nlu, name="New Slot")
    theirs = SlotFactory(model=foreign, name="theirs")
    response = tenant.admin.client.post(SLOT_SAVE, {"modelid": str(nlu.pk), **SLOT}, format="json")
    assert_envelope_error(response, 409, "already has a slot")
    payload = {"modelid": str(nlu.pk), **SLOT, "name": "other", "slotid": str(theirs.pk)}
    assert_envelope_error(tenant.admin.client.post(SLOT_SAVE, payload, format="json"), 404)
    theirs.refresh_from_db()
    assert theirs.name == "theirs"


def test_slot_get_unknown_name(tenant, nlu):
    response = tenant.admin.client.get(SLOT_GET, {"modelid": str(nlu.pk), "name": "nope"})
    assert_envelope_error(response, 404, "Slot not found")
    assert_envelope_error(tenant.admin.client.get(SLOT_GET, {"modelid": str(nlu.pk)}), 400, "Missing name.")


def test_slots_delete(tenant, nlu, foreign):
    a = SlotFactory(model=nlu)
    b = SlotFactory(model=nlu)
    theirs = SlotFactory(model=foreign)
    bad = {"modelid": str(nlu.pk), "slots": [str(a.pk), str(theirs.pk)]}
    assert_envelope_error(tenant.admin.client.delete(SLOTS_DELETE, bad, format="json"), 404, "No slots were deleted")
    assert Slot.objects.count() == 3
    unknown = {"modelid": str(nlu.pk), "slots": [str(uuid.uuid4())]}
    assert_envelope_error(tenant.admin.client.delete(SLOTS_DELETE, unknown, format="json"), 404)
    good = {"modelid": str(nlu.pk), "slots": [str(a.pk)]}
    assert assert_ok(tenant.admin.client.delete(SLOTS_DELETE, good, format="json"))["message"] == (
        "Slots deleted successfully."
    )
    assert set(Slot.objects.all()) == {b, theirs}
    missing = {"modelid": str(nlu.pk)}
    assert_envelope_error(tenant.admin.client.delete(SLOTS_DELETE, missing, format="json"), 400, "Missing slots.")


# --- vocabulary ------------------------------------------------------------------------------------------


def test_vocabulary_save_get_delete(tenant, modeler, nlu):
    payload = {"modelid": str(nlu.pk), "text": "refund|money back", "description": "Returning a payment."}
    body = assert_ok(modeler.client.post(VOCAB_SAVE, payload, format="json"))
    assert body == {"success": True, "message": "Vocabulary saved successfully.", "added": True}
    again = assert_ok(modeler.client.post(VOCAB_SAVE, {**payload, "text": "  REFUND|money   back "}, format="json"))
    assert again["added"] is False
    assert VocabularyEntry.objects.count() == 1
    listed = assert_ok(modeler.client.get(VOCAB_GET, {"modelid": str(nlu.pk)}))["vocabulary"]
    entry = VocabularyEntry.objects.get()
    assert listed == [
        {
            "id": str(entry.pk),
            "term": "refund|money back",
            "definition": "Returning a payment.",
            "text": "refund|money back",
            "description": "Returning a payment.",
        }
    ]
    deleted = assert_ok(
        modeler.client.delete(VOCAB_DELETE, {"modelid": str(nlu.pk), "id": str(entry.pk)}, format="json")
    )
    assert deleted["message"] == "Vocabulary deleted successfully."
    assert not VocabularyEntry.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({}, 400, "Missing text."),
        ({"text": "   "}, 400, "text"),
        ({"text": "x" * 501}, 400, "text"),
    ],
)
def test_vocabulary_save_validation(tenant, nlu, payload, status, message):
    response = tenant.admin.client.post(VOCAB_SAVE, {"modelid": str(nlu.pk), **payload}, format="json")
    assert_envelope_error(response, status, message)
    assert not VocabularyEntry.objects.exists()


def test_vocabulary_delete_of_another_model_or_company(tenant, nlu, foreign):
    theirs = VocabularyFactory(model=foreign)
    mine = VocabularyFactory(model=nlu)
    for entry_id in (str(theirs.pk), "garbage", str(uuid.uuid4())):
        response = tenant.admin.client.delete(VOCAB_DELETE, {"modelid": str(nlu.pk), "id": entry_id}, format="json")
        assert_envelope_error(response, 404, "Vocabulary entry not found")
    assert VocabularyEntry.objects.count() == 2
    missing = tenant.admin.client.delete(VOCAB_DELETE, {"modelid": str(nlu.pk)}, format="json")
    assert_envelope_error(missing, 400, "Missing id.")
    assert mine.pk
