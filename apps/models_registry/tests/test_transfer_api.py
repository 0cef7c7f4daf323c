"""model/export and model/import: the ZIP round trip, and archives that must be refused."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import MODEL_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import AIModel, DataSource, Intent, Slot, VocabularyEntry
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory, IntentFactory, SlotFactory, VocabularyFactory
from apps.models_registry.tests.test_nlu_api import ANSWERS, CORPUS

EXPORT = BASE + "model/export"
IMPORT = BASE + "model/import"


def zip_of(files: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def valid_files() -> dict[str, bytes | str]:
    return {
        "manifest.json": json.dumps({"format": "symbient-model/1"}),
        "model.json": json.dumps({"name": "Imported", "algorithm": "natural-bayes", "input": [], "output": []}),
    }


def send(client, data: bytes, name: str = "model.zip"):
    return client.put(IMPORT, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_round_trip_export_import_train_test(tenant, outsider, django_capture_on_commit_callbacks):
    source = AIModelFactory(company=tenant.company, name="Shop bot", input=CORPUS, output=ANSWERS, tags=["a"])
    IntentFactory(model=source, name="greet", utterances=["hello there", "good morning"], answer="Hello!")
    SlotFactory(model=source, name="date", intent="book_table", conditions=["today"], followup="When?")
    VocabularyFactory(model=source, term="refund|money back", definition="returning a payment")
    DataSource.objects.create(company=tenant.company, model=source, kind="file", originalname="a.txt", text="Some text")
    modeler = tenant.member([MODEL_MANAGER])
    response = modeler.client.get(f"{EXPORT}/{source.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="Shop-bot.zip"' in response["Content-Disposition"]
    same = tenant.admin.client.get(EXPORT, {"modelid": str(source.pk)})
    assert same.status_code == 200
    archive = response.content

    body = assert_ok(send(outsider.admin.client, archive))
    assert body["message"] == "File imported successfully."
    copy = AIModel.objects.get(pk=body["modelid"])
    assert copy.company_id == outsider.company.pk and copy.pk != source.pk
    assert (copy.name, copy.tags, copy.input, copy.state, copy.version) == ("Shop bot", ["a"], CORPUS, "draft", 0)
    assert list(Intent.objects.filter(model=copy).values_list("name", "answer")) == [("greet", "Hello!")]
    assert Slot.objects.get(model=copy).conditions == ["today"]
    assert VocabularyEntry.objects.get(model=copy).term == "refund|money back"
    assert DataSource.objects.get(model=copy).text == "Some text"

    sentences = ["is a storm coming?", "please give me a refund", "good morning to you"]
    results = []
    for client, model in ((tenant.admin.client, source), (outsider.admin.client, copy)):
        with django_capture_on_commit_callbacks(execute=True):
            assert_ok(client.put(BASE + "model/train", {"modelid": str(model.pk)}, format="json"))
        outputs = [
            assert_ok(client.post(BASE + "model/test", {"modelid": str(model.pk), "input": s}))["output"]["intent"]
            for s in sentences
        ]
        results.append(outputs)
    assert results[0] == results[1] == ["weather", "refund_request", "greet"]


def test_export_roles_and_other_companies(anon, tenant, foreign):
    assert_envelope_error(anon.get(f"{EXPORT}/{foreign.pk}"), 401)
    assert_envelope_error(tenant.user.client.get(f"{EXPORT}/{foreign.pk}"), 403)
    assert_envelope_error(tenant.admin.client.get(f"{EXPORT}/{foreign.pk}"), 404)
    assert_envelope_error(tenant.admin.client.get(f"{EXPORT}/nonsense"), 404)
    assert_envelope_error(tenant.admin.client.get(EXPORT), 400, "Missing modelid.")


def test_import_roles(anon, tenant):
    assert_envelope_error(send(anon, zip_of(valid_files())), 401)
    assert_envelope_error(send(tenant.user.client, zip_of(valid_files())), 403)
    assert_ok(send(tenant.member([MODEL_MANAGER]).client, zip_of(valid_files())))
    assert AIModel.objects.get().name == "Imported"


def _bomb() -> bytes:
    return zip_of({**valid_files(), "datasources/0.txt": b"0" * 5_000_000})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just text", "Only zip files are supported."),
        (b"", "Only zip files are supported."),
        (zip_of({**valid_files(), "../evil.json": "{}"}), "Unexpected file"),
        (zip_of({**valid_files(), "/etc/passwd": "x"}), "Unexpected file"),
        (zip_of({**valid_files(), "datasources/../../x.txt": "x"}), "Unexpected file"),
        (_bomb(), "zip bomb"),
        (zip_of({"manifest.json": json.dumps({"format": "other/9"})}), "Unsupported archive format"),
        (zip_of({**valid_files(), "model.json": "{not json"}), "model.json is not valid JSON"),
        (zip_of({**valid_files(), "model.json": "[]"}), "model.json has the wrong shape"),
        (zip_of({"manifest.json": json.dumps({"format": "symbient-model/1"})}), "no model.json"),
        (zip_of({**valid_files(), "model.json": json.dumps({"name": "x", "algorithm": "gpt"})}), "algorithm"),
        (zip_of({**valid_files(), "intents.json": json.dumps([{"name": "a"}, {"name": "a"}])}), "repeated"),
        (
            zip_of({**valid_files(), "datasources.json": json.dumps([{"kind": "file", "file": "nope"}])}),
            "invalid entry",
        ),
        (zip_of({**valid_files(), "slots.json": json.dumps([{"name": "s", "isrequired": "yes"}])}), "isrequired"),
        (zip_of(valid_files())[:-30], "zip"),
    ],
)
def test_import_refuses_bad_archives_and_creates_nothing(tenant, data, message):
    assert_envelope_error(send(tenant.admin.client, data), 400, message)
    assert not AIModel.objects.exists() and not Intent.objects.exists()


def test_import_size_limit(tenant, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1024
    big = zip_of({**valid_files(), "datasources/0.txt": bytes(range(256)) * 20}, compression=zipfile.ZIP_STORED)
    assert_envelope_error(send(tenant.admin.client, big), 413)
    assert not AIModel.objects.exists()


def test_import_needs_a_file(tenant):
    assert_envelope_error(tenant.admin.client.put(IMPORT, {}, format="multipart"), 400, "Missing file.")
