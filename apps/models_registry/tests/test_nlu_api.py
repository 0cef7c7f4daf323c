"""model/train and model/test for natural-bayes models: jobs, versions, output shape, entities, slot filling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok, wait_for
from apps.models_registry.models import AIModel, Intent, ModelArtifact
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory, IntentFactory, SlotFactory, VocabularyFactory

TRAIN = BASE + "model/train"
TEST = BASE + "model/test"
DATA = json.loads((Path(__file__).resolve().parents[3] / "tests" / "data" / "nlu_paraphrase.json").read_text())
CORPUS = [{"intent": intent, "utterances": utterances} for intent, utterances in DATA["train"].items()]
ANSWERS = [{"intent": "book_table", "answer": "Your table is booked."}, {"intent": "weather", "answer": "Sunny."}]


@pytest.fixture
def shop(tenant):
    return AIModelFactory(company=tenant.company, name="Shop", input=CORPUS, output=ANSWERS)


def train(client, model, capture):
    with capture(execute=True):
        body = assert_ok(client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))
    model.refresh_from_db()
    return body


def test_roles_anonymous_and_other_companies(anon, tenant, shop, foreign):
    for path, method, payload in (
        (TRAIN, "put", {"modelid": str(shop.pk)}),
        (TEST, "post", {"modelid": str(shop.pk), "input": "hi"}),
    ):
        assert_envelope_error(getattr(anon, method)(path, payload, format="json"), 401)
        for role in ALL_ROLES:
            if role not in (COMPANY_ADMIN, MODEL_MANAGER):
                assert_envelope_error(getattr(tenant.member([role]).client, method)(path, payload, format="json"), 403)
        other = {**payload, "modelid": str(foreign.pk)}
        assert_envelope_error(getattr(tenant.admin.client, method)(path, other, format="json"), 404)
        assert_envelope_error(
            getattr(tenant.admin.client, method)(path, {**payload, "modelid": "x"}, format="json"), 404
        )
        missing = {k: v for k, v in payload.items() if k != "modelid"}
        assert_envelope_error(
            getattr(tenant.admin.client, method)(path, missing, format="json"), 400, "Missing modelid."
        )
    shop.refresh_from_db()
    foreign.refresh_from_db()
    assert (shop.state, foreign.state) == ("draft", "draft")


def test_train_then_test(tenant, shop, django_capture_on_commit_callbacks):
    modeler = tenant.member([MODEL_MANAGER])
    body = train(modeler.client, shop, django_capture_on_commit_callbacks)
    assert body["message"] == "Training started." and body["state"] == "queued"
    assert (shop.state, shop.version, shop.progress, shop.error) == ("trained", 1, 100, "")
    assert shop.trained_at is not None
    artifact = ModelArtifact.objects.get(model=shop)
    assert artifact.engine == "natural-bayes" and artifact.size == len(bytes(artifact.data))
    assert set(Intent.objects.filter(model=shop).values_list("name", flat=True)) == set(DATA["train"])
    shown = assert_ok(modeler.client.get(BASE + "models/get"))["models"][0]
    assert (shown["state"], shown["version"], shown["progress"]) == ("trained", 1, 100)

    result = assert_ok(
        modeler.client.post(TEST, {"modelid": str(shop.pk), "input": "is a storm coming?"}, format="json")
    )
    output = result["output"]
    assert output["intent"] == "weather"
    assert 0.5 <= output["score"] <= 1
    assert output["response"] == "Sunny." == output["answer"] == result["result"]
    assert output["language"] == "en" == output["locale"]
    assert output["sentiment"] in ("positive", "negative", "neutral")
    assert output["utterance"] == "is a storm coming?"
    assert output["classifications"][0]["intent"] == "weather"
    assert {c["intent"] for c in output["classifications"]} == {*DATA["train"], "None"}
    assert abs(sum(c["score"] for c in output["classifications"]) - 1) < 0.01
    assert "slotFill" not in output


def test_out_of_scope_is_none(tenant, shop, django_capture_on_commit_callbacks):
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    body = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": "who painted the mona lisa"}))
    assert body["output"]["intent"] is None
    assert body["output"]["score"] < 0.5
    assert body["output"]["response"] is None
    assert body["output"]["classifications"][0]["intent"] == "None"


def test_entities_language_and_sentiment(tenant, shop, django_capture_on_commit_callbacks):
    VocabularyFactory(model=shop, term="paypal|pay pal")
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    text = "Ik wil betalen met pay pal, mail jan@example.nl of bel +31 20 123 4567 voor 3 maart 2027 https://shop.nl"
    output = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": text}))["output"]
    assert output["language"] == "nl"
    entities = output["entities"]
    assert entities["email"] == "jan@example.nl"
    assert entities["phone"] == "+31201234567"
    assert entities["url"] == "https://shop.nl"
    assert entities["number"] == 3
    assert entities["vocabulary"] == "paypal"
    angry = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": "This is awful, I hate it"}))
    assert angry["output"]["sentiment"] == "negative"


def test_slot_filling_asks_then_fills(tenant, shop, django_capture_on_commit_callbacks):
    SlotFactory(model=shop, name="date", intent="book_table", isrequired=True, followup="For which day?")
    SlotFactory(
        model=shop, name="area", intent="book_table", isrequired=True, followup="Inside or on the terrace?",
        conditions=[{"value": "terrace", "synonyms": ["outside", "patio"]}, "inside"],
    )  # fmt: skip
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    client = tenant.admin.client
    first = assert_ok(client.post(TEST, {"modelid": str(shop.pk), "input": "reserve a table for two on 2027-03-12"}))
    output = first["output"]
    assert output["intent"] == "book_table"
    assert output["entities"]["date"] == "2027-03-12"
    assert output["response"] == "Inside or on the terrace?"
    assert output["slotFill"] == {
        "intent": "book_table",
        "entities": {"date": "2027-03-12"},
        "currentSlot": "area",
        "question": "Inside or on the terrace?",
        "answer": "Your table is booked.",
    }
    second = assert_ok(
        client.post(
            TEST,
            {"modelid": str(shop.pk), "input": "on the patio please", "context": output["slotFill"]},
            format="json",
        )
    )["output"]
    assert second["intent"] == "book_table"
    assert second["entities"]["area"] == "terrace"
    assert second["response"] == "Your table is booked."
    assert "slotFill" not in second


def test_test_needs_a_trained_model_and_input(tenant, shop):
    assert_envelope_error(
        tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": "hi"}), 409, "not been trained"
    )
    assert_envelope_error(tenant.admin.client.post(TEST, {"modelid": str(shop.pk)}), 400, "Missing input.")
    assert_envelope_error(
        tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": "x" * 10_001}), 400, "input"
    )


def test_failed_run_keeps_the_previous_version(tenant, shop, django_capture_on_commit_callbacks):
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    AIModel.objects.filter(pk=shop.pk).update(input=[])
    Intent.objects.filter(model=shop).delete()
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    assert shop.state == "failed"
    assert "nothing to learn" in shop.error
    assert shop.version == 1
    output = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(shop.pk), "input": "will it rain tomorrow"}))
    assert output["output"]["intent"] == "weather"


def test_intent_utterances_train_and_inactive_intents_do_not(tenant, django_capture_on_commit_callbacks):
    model = AIModelFactory(company=tenant.company)
    IntentFactory(model=model, name="hello", utterances=["hello there", "hi", "good morning"], answer="Hello!")
    IntentFactory(model=model, name="bye", utterances=["goodbye", "see you later", "bye bye"])
    IntentFactory(model=model, name="off", utterances=["hello friend"], isactive=False)
    train(tenant.admin.client, model, django_capture_on_commit_callbacks)
    output = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(model.pk), "input": "hey, good evening"}))[
        "output"
    ]
    assert output["intent"] == "hello" and output["response"] == "Hello!"
    assert {c["intent"] for c in output["classifications"]} == {"hello", "bye", "None"}


def test_training_twice_at_once(tenant, shop):
    AIModel.objects.filter(pk=shop.pk).update(state="queued")
    assert_envelope_error(tenant.admin.client.put(TRAIN, {"modelid": str(shop.pk)}, format="json"), 409, "already")


@pytest.mark.worker
def test_training_runs_in_a_real_worker(tenant, celery_worker):
    model = AIModelFactory(company=tenant.company, name="Shop", input=CORPUS, output=ANSWERS)
    assert_ok(tenant.admin.client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))
    trained = wait_for(
        lambda: AIModel.objects.filter(pk=model.pk, state__in=["trained", "failed"]).first(), timeout=120
    )
    assert (trained.state, trained.version, trained.error) == ("trained", 1, ""), celery_worker.log()[-2000:]
    output = assert_ok(tenant.admin.client.post(TEST, {"modelid": str(model.pk), "input": "is a storm coming?"}))
    assert output["output"]["intent"] == "weather"


def test_classifications_parameter(tenant, shop, django_capture_on_commit_callbacks):
    train(tenant.admin.client, shop, django_capture_on_commit_callbacks)
    ask = {"modelid": str(shop.pk), "input": "will it rain tomorrow"}
    two = assert_ok(tenant.admin.client.post(TEST, {**ask, "classifications": 2}, format="json"))["output"]
    assert [c["intent"] for c in two["classifications"] if c["intent"] != "None"][:1] == ["weather"]
    assert len(two["classifications"]) == 3
    every = assert_ok(tenant.admin.client.post(TEST, {**ask, "classifications": 0}, format="json"))["output"]
    assert len(every["classifications"]) == len(DATA["train"]) + 1
    for bad in (-1, "many"):
        response = tenant.admin.client.post(TEST, {**ask, "classifications": bad}, format="json")
        assert_envelope_error(response, 400, "classifications")
