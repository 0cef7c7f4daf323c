"""asr models: save, train, test with a recording, vocabulary biasing, providers, model_transcribe, transcripts."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER, USER_MANAGER
from apps.core.exceptions import Conflict, NotFound
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import AIModel, ModelArtifact
from apps.models_registry.providers.services import provider_create
from apps.models_registry.services.speech import model_transcribe
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory, VocabularyFactory
from apps.models_registry.tests.transcriber import HEARD, running_transcriber

SAVE = BASE + "model/save"
TRAIN = BASE + "model/train"
TEST = BASE + "model/test"
DEPLOY = BASE + "models/deploy"
NAMES = "Send the report to Symbient and Kubrix before Friday"
DOOR = "open the door and turn on the light"

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (make test installs it)")


@pytest.fixture(scope="module")
def speak(tmp_path_factory):
    """WAV bytes of a sentence spoken by espeak-ng (made once per sentence)."""
    folder: Path = tmp_path_factory.mktemp("speech")
    made: dict[tuple[str, int], bytes] = {}

    def make(text: str, rate: int = 140) -> bytes:
        if (text, rate) not in made:
            path = folder / f"{len(made)}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(rate), "-w", str(path), text], check=True)
            made[(text, rate)] = path.read_bytes()
        return made[(text, rate)]

    return make


def convert(wav: bytes, format_: str) -> bytes:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples, rate, format=format_)
    return out.getvalue()


def words(text: str) -> set[str]:
    return {word.strip(".,!?'").lower() for word in text.split()}


def asr(company, engine: str = "faster-whisper-base", **kw) -> AIModel:
    return AIModelFactory(company=company, algorithm="asr", model_name_or_path=engine, **kw)


def train(client, model, capture) -> AIModel:
    with capture(execute=True):
        assert_ok(client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))
    model.refresh_from_db()
    return model


def hear(client, model, audio: bytes, name: str = "speech.wav", **fields):
    payload = {"modelid": str(model.pk), "file": SimpleUploadedFile(name, audio), **fields}
    return client.post(TEST, payload, format="multipart")


# --- saving -----------------------------------------------------------------------------------------------------


def test_an_asr_model_names_its_engine(tenant):
    client = tenant.admin.client
    body = assert_ok(client.post(SAVE, {"name": "Dictation", "algorithm": "asr"}, format="json"))
    model = AIModel.objects.get(pk=body["modelid"])
    assert model.model_name_or_path == "faster-whisper-base"
    for engine in ("pocketsphinx", "acme.whisper-1", "faster-whisper"):
        payload = {"modelid": str(model.pk), "name": "Dictation", "algorithm": "asr", "model_name_or_path": engine}
        assert_ok(client.post(SAVE, payload, format="json"))
        model.refresh_from_db()
        assert model.model_name_or_path == ("faster-whisper-base" if engine == "faster-whisper" else engine)
    bad = {"modelid": str(model.pk), "name": "Dictation", "algorithm": "asr", "model_name_or_path": "whisper-huge"}
    assert_envelope_error(client.post(SAVE, bad, format="json"), 400, "pocketsphinx")
    model.refresh_from_db()
    assert model.model_name_or_path == "faster-whisper-base"


# --- whisper ----------------------------------------------------------------------------------------------------


def test_whisper_model_trains_and_hears_its_vocabulary(tenant, speak, django_capture_on_commit_callbacks):
    modeler = tenant.member([MODEL_MANAGER])
    plain, biased = asr(tenant.company, name="Plain"), asr(tenant.company, name="Names")
    for term in ("Symbient", "Kubrix"):
        VocabularyFactory(company=tenant.company, model=biased, term=term)
    assert_envelope_error(hear(modeler.client, biased, speak(NAMES)), 409, "not been trained")

    for model in (plain, biased):
        trained = train(modeler.client, model, django_capture_on_commit_callbacks)
        assert (trained.state, trained.version, trained.progress, trained.error) == ("trained", 1, 100, "")
    artifact = ModelArtifact.objects.get(model=biased, version=1)
    assert artifact.engine == "asr"
    assert artifact.metrics == {"engine": "faster-whisper-base", "hotwords": 2}

    body = assert_ok(hear(modeler.client, biased, speak(NAMES)))
    output = body["output"]
    assert {"symbient", "kubrix", "report", "friday"} <= words(output["text"])
    assert body["result"] == output["response"] == output["text"]
    assert (output["language"], output["engine"], output["intent"]) == ("en", "faster-whisper", None)
    assert 2.0 < output["duration"] < 6.0
    assert 0 < output["score"] <= 1
    assert_envelope_error(hear(modeler.client, biased, speak(NAMES), language="zz"), 400, "language 'zz'")
    timed = [w for segment in output["segments"] for w in segment["words"]]
    assert timed and all(0 <= w["start"] <= w["end"] <= output["duration"] + 0.5 for w in timed)
    # Without the vocabulary the same recording is heard with the usual spelling of those names.
    unbiased = assert_ok(hear(modeler.client, plain, speak(NAMES)))["output"]["text"]
    assert "kubrix" not in words(unbiased)
    assert "report" in words(unbiased)


def test_flac_and_ogg_recordings_are_accepted(tenant, speak, django_capture_on_commit_callbacks):
    model = train(tenant.admin.client, asr(tenant.company), django_capture_on_commit_callbacks)
    for format_, name in (("FLAC", "a.flac"), ("OGG", "a.bin")):
        output = assert_ok(hear(tenant.admin.client, model, convert(speak(DOOR), format_), name=name))["output"]
        assert {"door", "light"} <= words(output["text"])


# --- pocketsphinx -----------------------------------------------------------------------------------------------


def test_pocketsphinx_spots_the_models_vocabulary(tenant, speak, django_capture_on_commit_callbacks):
    client = tenant.admin.client
    model = train(client, asr(tenant.company, "pocketsphinx"), django_capture_on_commit_callbacks)
    output = assert_ok(hear(client, model, speak(DOOR, rate=120)))["output"]
    assert (output["engine"], output["language"]) == ("pocketsphinx", "en")
    assert output["text"] and "door" not in words(output["text"])

    for term in ("door", "light"):
        VocabularyFactory(company=tenant.company, model=model, term=term)
    model = train(client, model, django_capture_on_commit_callbacks)
    assert model.version == 2
    output = assert_ok(hear(client, model, speak(DOOR, rate=120)))["output"]
    assert {"door", "light"} <= words(output["text"])
    timed = [w for segment in output["segments"] for w in segment["words"]]
    assert [w["start"] for w in timed] == sorted(w["start"] for w in timed)
    assert_envelope_error(hear(client, model, speak(DOOR), language="de"), 400, "English only")


def test_a_failed_training_keeps_the_previous_engine(tenant, speak, django_capture_on_commit_callbacks):
    client = tenant.admin.client
    model = train(client, asr(tenant.company, "pocketsphinx"), django_capture_on_commit_callbacks)
    AIModel.objects.filter(pk=model.pk).update(model_name_or_path="ghost.whisper-1")
    failed = train(client, model, django_capture_on_commit_callbacks)
    assert (failed.state, failed.version) == ("failed", 1)
    assert "ghost.whisper-1" in failed.error
    assert assert_ok(hear(client, model, speak(DOOR)))["output"]["engine"] == "pocketsphinx"


# --- refusals ---------------------------------------------------------------------------------------------------


def test_model_test_refusals(anon, tenant, foreign, speak, settings, django_capture_on_commit_callbacks):
    client = tenant.admin.client
    model = train(client, asr(tenant.company, "pocketsphinx"), django_capture_on_commit_callbacks)
    wav = speak(DOOR)
    text_only = client.post(TEST, {"modelid": str(model.pk), "input": "hello"}, format="json")
    assert_envelope_error(text_only, 400, "multipart/form-data with `file`")
    assert_envelope_error(client.post(TEST, {"modelid": str(model.pk)}, format="json"), 400, "`file`")
    nlu = AIModelFactory(company=tenant.company)
    assert_envelope_error(hear(client, nlu, wav), 400, "send `input` text")
    assert_envelope_error(hear(client, model, b"just some text, not sound", name="notes.wav"), 400, "notes.wav")
    assert_envelope_error(hear(client, model, b"", name="empty.wav"), 400, "empty")
    assert_envelope_error(hear(client, model, convert(wav, "AIFF"), name="a.aiff"), 400, "aiff")
    truncated = hear(client, model, wav[: len(wav) // 2], name="cut.wav")
    assert truncated.status_code in (200, 400)  # read as far as it goes, or refused: never a 500
    assert_envelope_error(hear(client, model, wav, language="english!!"), 400, "language")
    # Another company's model, roles that may not, and no credentials.
    assert_envelope_error(hear(client, foreign, wav), 404)
    assert_envelope_error(hear(client, AIModelFactory.build(company=tenant.company), wav), 404)
    for role in ALL_ROLES:
        if role not in (COMPANY_ADMIN, MODEL_MANAGER):
            assert_envelope_error(hear(tenant.member([role]).client, model, wav), 403)
    assert_envelope_error(hear(anon, model, wav), 401)
    settings.TRANSCRIPT_AUDIO_MAX_SECONDS = 1
    assert_envelope_error(hear(client, model, wav, name="long.wav"), 413, "limit is 1 s")
    settings.ASR_AUDIO_MAX_BYTES = 4096
    assert_envelope_error(hear(client, model, wav, name="big.wav"), 413, "big.wav")
    model.refresh_from_db()
    assert (model.state, model.version) == ("trained", 1)


# --- providers --------------------------------------------------------------------------------------------------


@pytest.fixture
def transcriber(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # the fake provider listens on the loopback address
    with running_transcriber() as state:
        yield state


def test_a_provider_model_transcribes_through_the_provider(tenant, outsider, transcriber, speak,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    client = tenant.admin.client
    provider_create(
        company=tenant.company, actor=None, name="acme", api_endpoint=transcriber.url, api_key="sk-acme1234"
    )
    model = asr(tenant.company, "acme.whisper-1")
    VocabularyFactory(company=tenant.company, model=model, term="Symbient|Symbiant")
    model = train(client, model, django_capture_on_commit_callbacks)
    assert model.state == "trained"
    assert transcriber.requests == []  # training a provider model does not send audio anywhere

    output = assert_ok(hear(client, model, convert(speak(DOOR), "OGG"), name="door.ogg", language="en"))["output"]
    assert output["text"] == f"{HEARD} Symbient, Symbiant"
    assert (output["engine"], output["language"]) == ("provider:whisper-1", "en")
    assert [s["text"] for s in output["segments"]] == ["hello from", "the provider"]
    assert [w["word"] for w in output["segments"][1]["words"]] == ["the", "provider"]
    sent = transcriber.requests[-1]
    assert sent.headers["Authorization"] == "Bearer sk-acme1234"
    assert sent.fields["model"] == "whisper-1"
    assert (sent.fields["language"], sent.fields["response_format"]) == ("en", "verbose_json")
    assert sent.fields["prompt"] == "Symbient, Symbiant"
    info = sf.info(io.BytesIO(sent.audio))
    assert (info.format, info.samplerate, info.channels) == ("WAV", 16_000, 1)

    for upstream, status, message in (("error500", 502, "(500)"), ("rejects", 400, "audio too short")):
        AIModel.objects.filter(pk=model.pk).update(model_name_or_path=f"acme.{upstream}")
        model = train(client, model, django_capture_on_commit_callbacks)
        assert_envelope_error(hear(client, model, speak(DOOR)), status, message)
    AIModel.objects.filter(pk=model.pk).update(model_name_or_path="acme.plain")
    model = train(client, model, django_capture_on_commit_callbacks)
    plain = assert_ok(hear(client, model, speak(DOOR)))["output"]
    assert plain["text"] == HEARD and len(plain["segments"]) == 1

    # Another company cannot use the tenant's provider: its training fails with the reason.
    theirs = train(outsider.admin.client, asr(outsider.company, "acme.whisper-1"), django_capture_on_commit_callbacks)
    assert theirs.state == "failed"
    assert "acme.whisper-1" in theirs.error


# --- model_transcribe -------------------------------------------------------------------------------------------


def test_model_transcribe_picks_the_model(tenant, outsider, speak, django_capture_on_commit_callbacks):
    company, wav = tenant.company, speak(DOOR, rate=120)
    heard = model_transcribe(company=company, modelid=None, data=wav)
    assert heard.engine == "faster-whisper"  # nothing deployed: the default engine
    assert {"door", "light"} <= words(heard.text)

    sphinx = train(tenant.admin.client, asr(company, "pocketsphinx"), django_capture_on_commit_callbacks)
    assert model_transcribe(company=company, modelid=str(sphinx.pk), data=wav).engine == "pocketsphinx"
    assert model_transcribe(company=company, modelid=None, data=wav).engine == "faster-whisper"
    assert_ok(tenant.admin.client.put(DEPLOY, {"modelid": str(sphinx.pk), "isdeployed": "true"}, format="json"))
    assert model_transcribe(company=company, modelid=None, data=wav, language="en").engine == "pocketsphinx"

    for other in (AIModelFactory(company=company), asr(outsider.company), AIModelFactory.build(company=company)):
        with pytest.raises(NotFound):
            model_transcribe(company=company, modelid=str(other.pk), data=wav)
    with pytest.raises(NotFound):
        model_transcribe(company=company, modelid="not-an-id", data=wav)
    with pytest.raises(Conflict):
        model_transcribe(company=company, modelid=str(asr(company).pk), data=wav)


def test_transcript_uploads_use_the_deployed_model(tenant, speak, django_capture_on_commit_callbacks):
    from apps.transcripts.models import Transcript

    client = tenant.admin.client
    sphinx = train(client, asr(tenant.company, "pocketsphinx"), django_capture_on_commit_callbacks)
    VocabularyFactory(company=tenant.company, model=sphinx, term="door")
    sphinx = train(client, sphinx, django_capture_on_commit_callbacks)
    assert_ok(client.put(DEPLOY, {"modelid": str(sphinx.pk), "isdeployed": "true"}, format="json"))
    upload = {"reference_label": "Door", "file": SimpleUploadedFile("door.wav", speak(DOOR, rate=120))}
    with django_capture_on_commit_callbacks(execute=True):
        tid = assert_ok(client.put("/api/v1/toolbox/tools/transcript/upload", upload, format="multipart"))[
            "transcriptid"
        ]
    row = Transcript.objects.get(pk=tid)
    assert (row.state, row.engine, row.language) == ("completed", "pocketsphinx", "en")
    assert "door" in words(row.text)


def test_silence_is_heard_as_nothing_much(tenant, django_capture_on_commit_callbacks):
    out = io.BytesIO()
    sf.write(out, np.zeros(16_000, dtype="float32"), 16_000, format="WAV")
    model = train(tenant.admin.client, asr(tenant.company, "pocketsphinx"), django_capture_on_commit_callbacks)
    output = assert_ok(hear(tenant.admin.client, model, out.getvalue()))["output"]
    assert output["duration"] == 1.0
    assert len(output["text"].split()) <= 2


def test_a_role_limited_provider_is_used_only_by_those_roles(tenant, transcriber, speak,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
    provider_create(
        company=tenant.company, actor=None, name="acme", api_endpoint=transcriber.url, allowed_roles=[USER_MANAGER]
    )
    manager = tenant.member([MODEL_MANAGER])
    payload = {"name": "Dictation", "algorithm": "asr", "model_name_or_path": "acme.whisper-1"}
    assert_envelope_error(manager.client.post(SAVE, payload, format="json"), 403, "acme.whisper-1")
    assert not AIModel.objects.filter(company=tenant.company, name="Dictation").exists()
    local = asr(tenant.company, "pocketsphinx")
    changed = {**payload, "modelid": str(local.pk)}
    assert_envelope_error(manager.client.post(SAVE, changed, format="json"), 403, "permission")
    local.refresh_from_db()
    assert local.model_name_or_path == "pocketsphinx"  # nothing saved

    both = tenant.member([MODEL_MANAGER, USER_MANAGER])
    model = AIModel.objects.get(pk=assert_ok(both.client.post(SAVE, payload, format="json"))["modelid"])
    assert model.model_name_or_path == "acme.whisper-1"
    assert_envelope_error(manager.client.put(TRAIN, {"modelid": str(model.pk)}, format="json"), 403, "permission")
    model.refresh_from_db()
    assert model.state != "queued"  # no job was queued
    model = train(both.client, model, django_capture_on_commit_callbacks)
    assert model.state == "trained"

    assert_envelope_error(hear(manager.client, model, speak(DOOR)), 403, "permission")
    assert transcriber.requests == []  # refused before any audio left
    assert assert_ok(hear(both.client, model, speak(DOOR)))["output"]["text"].startswith(HEARD)
    assert assert_ok(hear(tenant.admin.client, model, speak(DOOR)))["output"]["text"].startswith(HEARD)
