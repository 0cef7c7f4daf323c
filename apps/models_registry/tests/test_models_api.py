"""Model and Models endpoints: save, get, delete, deploy — roles, other companies' ids, validation."""

from __future__ import annotations

import json
import uuid

import pytest

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import AIModel, Intent, VocabularyEntry
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory, IntentFactory, VocabularyFactory

SAVE = BASE + "model/save"
GET = BASE + "models/get"
DELETE = BASE + "models/delete"
DEPLOY = BASE + "models/deploy"

NEW = {
    "name": "New Model",
    "algorithm": "natural-bayes",
    "description": "A new model description.",
    "ispublic": True,
    "isdefault_llm": False,
    "tags": ["tag1", "tag2"],
    "input": json.dumps([{"intent": "greeting", "utterance": "hello there"}]),
    "output": json.dumps([{"intent": "greeting", "answer": "Hi!"}]),
}


def endpoints(model_id: str):
    return [
        ("get", GET, None),
        ("post", SAVE, NEW),
        ("delete", DELETE, {"models": [model_id]}),
        ("put", DEPLOY, {"modelid": model_id, "isdeployed": "false"}),
    ]


@pytest.mark.parametrize("index", range(4))
def test_anonymous_and_roles_that_may_not(anon, tenant, nlu, index):
    method, path, payload = endpoints(str(nlu.pk))[index]
    assert_envelope_error(getattr(anon, method)(path, payload, format="json"), 401)
    for role in ALL_ROLES:
        if role in (COMPANY_ADMIN, MODEL_MANAGER):
            continue
        member = tenant.member([role])
        assert_envelope_error(getattr(member.client, method)(path, payload, format="json"), 403, "permission")
    assert list(AIModel.objects.values_list("name", flat=True)) == ["Support bot"]


# --- save --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "modeler", "keys"])
def test_save_creates_with_json_strings_and_get_shows_arrays(tenant, modeler, who):
    client = {"admin": tenant.admin.client, "modeler": modeler.client, "keys": tenant.key_client()}[who]
    body = assert_ok(client.post(SAVE, NEW, format="json"))
    assert body["message"] == "Model saved successfully."
    model = AIModel.objects.get(pk=body["modelid"])
    assert model.company_id == tenant.company.pk
    listed = assert_ok(client.get(GET))["models"]
    assert len(listed) == 1
    shown = listed[0]
    assert shown["modelid"] == body["modelid"]
    assert shown["input"] == [{"intent": "greeting", "utterance": "hello there"}]
    assert shown["output"] == [{"intent": "greeting", "answer": "Hi!"}]
    assert shown["tags"] == ["tag1", "tag2"]
    assert shown["ispublic"] is True
    assert shown["isdeployed"] is False
    assert shown["candelete"] is True
    assert shown["isactive"] is True
    assert shown["state"] == "draft"
    assert shown["version"] == 0
    for key in ("model_name_or_path", "description", "name", "isdefault_llm", "progress", "error", "trained_at"):
        assert key in shown


def test_save_accepts_arrays_and_nlpjs_corpus_items(tenant):
    payload = {
        **NEW,
        "input": [{"intent": "greeting", "utterances": ["hello", "hi there"]}],
        "output": [{"intent": "greeting", "answers": ["Hi!", "Hello!"]}],
    }
    body = assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    assert AIModel.objects.get(pk=body["modelid"]).input == payload["input"]


def test_save_updates_own_model(tenant, nlu):
    payload = {**NEW, "modelid": str(nlu.pk), "name": "Renamed", "tags": ["x"], "input": "[]", "output": "[]"}
    assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    nlu.refresh_from_db()
    assert (nlu.name, nlu.tags, nlu.input) == ("Renamed", ["x"], [])
    assert AIModel.objects.count() == 1


def test_save_llm_defaults_to_the_builtin_provider(tenant):
    body = assert_ok(tenant.admin.client.post(SAVE, {"name": "Docs", "algorithm": "llm"}, format="json"))
    assert AIModel.objects.get(pk=body["modelid"]).model_name_or_path == "builtin.extractive"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"name": None}, 400, "Missing name."),
        ({"name": "   "}, 400, "name"),
        ({"algorithm": None}, 400, "Missing algorithm."),
        ({"algorithm": "gpt"}, 400, "algorithm"),
        ({"input": "[{not json"}, 400, "Invalid input: not valid JSON"),
        ({"input": "{}"}, 400, "expected a JSON array"),
        ({"input": 42}, 400, "input"),
        ({"input": [{"utterance": "hi"}]}, 400, 'needs an "intent"'),
        ({"input": [{"intent": "a"}]}, 400, "utterance"),
        ({"output": [{"intent": "a", "answer": 5}]}, 400, "answer"),
        ({"isdefault_llm": True}, 400, "Only an llm model"),
        ({"tags": "tag1"}, 400, "tags"),
        ({"ispublic": "perhaps"}, 400, "ispublic"),
    ],
)
def test_save_validation(tenant, change, status, message):
    payload = {k: v for k, v in {**NEW, **change}.items() if v is not None}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), status, message)
    assert not AIModel.objects.exists()


def test_save_refuses_a_new_algorithm_for_an_existing_model(tenant, nlu):
    payload = {**NEW, "modelid": str(nlu.pk), "algorithm": "asr"}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 400, "cannot be changed")
    nlu.refresh_from_db()
    assert nlu.algorithm == "natural-bayes"


@pytest.mark.parametrize("modelid", ["garbage", str(uuid.uuid4()), "FOREIGN"])
def test_save_with_unknown_or_foreign_id_is_404_and_changes_nothing(tenant, foreign, modelid):
    modelid = str(foreign.pk) if modelid == "FOREIGN" else modelid
    payload = {**NEW, "modelid": modelid, "name": "Hijacked"}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 404, "Model not found")
    foreign.refresh_from_db()
    assert foreign.name == "Globex bot"
    assert AIModel.objects.count() == 1


def test_one_default_llm_per_company(tenant, outsider):
    theirs = AIModelFactory(company=outsider.company, algorithm="llm", isdefault_llm=True)
    client = tenant.admin.client
    first = assert_ok(client.post(SAVE, {"name": "A", "algorithm": "llm", "isdefault_llm": True}, format="json"))
    second = assert_ok(client.post(SAVE, {"name": "B", "algorithm": "llm", "isdefault_llm": True}, format="json"))
    defaults = AIModel.objects.for_company(tenant.company).filter(isdefault_llm=True)
    assert [str(m.pk) for m in defaults] == [second["modelid"]]
    assert not AIModel.objects.get(pk=first["modelid"]).isdefault_llm
    theirs.refresh_from_db()
    assert theirs.isdefault_llm


# --- get -------------------------------------------------------------------------------------------------------


def test_get_lists_only_the_companys_models(tenant, nlu, foreign):
    listed = assert_ok(tenant.admin.client.get(GET))["models"]
    assert [m["modelid"] for m in listed] == [str(nlu.pk)]


# --- delete ----------------------------------------------------------------------------------------------------


def test_delete_removes_models_and_what_belongs_to_them(tenant, nlu):
    other = AIModelFactory(company=tenant.company)
    IntentFactory(model=nlu)
    VocabularyFactory(model=nlu)
    keep = AIModelFactory(company=tenant.company)
    assert_ok(tenant.admin.client.delete(DELETE, {"models": [str(nlu.pk), str(other.pk)]}, format="json"))
    assert list(AIModel.objects.all()) == [keep]
    assert not Intent.objects.exists()
    assert not VocabularyEntry.objects.exists()


def test_delete_with_query_parameters(tenant, nlu):
    other = AIModelFactory(company=tenant.company)
    assert_ok(tenant.admin.client.delete(f"{DELETE}?models={nlu.pk},{other.pk}"))
    assert not AIModel.objects.exists()


@pytest.mark.parametrize("bad", ["FOREIGN", "garbage", "unknown"])
def test_delete_is_all_or_nothing(tenant, nlu, foreign, bad):
    bad_id = {"FOREIGN": str(foreign.pk), "garbage": "garbage", "unknown": str(uuid.uuid4())}[bad]
    response = tenant.admin.client.delete(DELETE, {"models": [str(nlu.pk), bad_id]}, format="json")
    assert_envelope_error(response, 404, "no model was deleted")
    assert AIModel.objects.count() == 2


def test_delete_refuses_models_that_cannot_be_deleted(tenant, nlu):
    locked = AIModelFactory(company=tenant.company, name="System", candelete=False)
    response = tenant.admin.client.delete(DELETE, {"models": [str(nlu.pk), str(locked.pk)]}, format="json")
    assert_envelope_error(response, 409, "System")
    assert AIModel.objects.count() == 2


def test_delete_needs_ids(tenant):
    assert_envelope_error(tenant.admin.client.delete(DELETE, {"models": []}, format="json"), 400, "models")
    assert_envelope_error(tenant.admin.client.delete(DELETE, {}, format="json"), 400, "Missing models.")


# --- deploy ------------------------------------------------------------------------------------------------------


def test_deploy_needs_a_trained_model(tenant, nlu):
    response = tenant.admin.client.put(DEPLOY, {"modelid": str(nlu.pk), "isdeployed": "true"}, format="json")
    assert_envelope_error(response, 409, "trained")
    nlu.refresh_from_db()
    assert not nlu.isdeployed


def test_deploy_and_undeploy(tenant, modeler, nlu):
    AIModel.objects.filter(pk=nlu.pk).update(version=1, state="trained")
    body = assert_ok(modeler.client.put(DEPLOY, {"modelid": str(nlu.pk), "isdeployed": "true"}, format="json"))
    assert body == {"success": True, "message": "Model deployed successfully.", "modelid": str(nlu.pk)}
    nlu.refresh_from_db()
    assert nlu.isdeployed
    body = assert_ok(modeler.client.put(DEPLOY, {"modelid": str(nlu.pk), "isdeployed": False}, format="json"))
    assert body["message"] == "Model undeployed successfully."
    nlu.refresh_from_db()
    assert not nlu.isdeployed


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"isdeployed": "true"}, 400, "Missing modelid."),
        ({"modelid": "MODEL"}, 400, "Missing isdeployed."),
        ({"modelid": "MODEL", "isdeployed": "sometimes"}, 400, "isdeployed"),
        ({"modelid": "FOREIGN", "isdeployed": "true"}, 404, "Model not found"),
        ({"modelid": "nope", "isdeployed": "true"}, 404, "Model not found"),
    ],
)
def test_deploy_validation(tenant, nlu, foreign, payload, status, message):
    AIModel.objects.update(version=1, state="trained")
    ids = {"MODEL": str(nlu.pk), "FOREIGN": str(foreign.pk)}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    assert_envelope_error(tenant.admin.client.put(DEPLOY, payload, format="json"), status, message)
    assert not AIModel.objects.filter(isdeployed=True).exists()
