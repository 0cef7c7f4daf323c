"""The `transcribe` operator: a recording from a URL (guarded) or a transcript's stored audio, through an asr model."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
from django.core.files.base import ContentFile

from apps.automations.models import Automation, AutomationRun
from apps.automations.tests.conftest import SAVE, chain, entries, make_automation, node, start_test_run
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.tests.factories import AIModelFactory, VocabularyFactory
from apps.transcripts.models import Transcript

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (make test installs it)"),
]

COMPLETED, FAILED = AutomationRun.Status.COMPLETED, AutomationRun.Status.FAILED
DOOR = "open the door and turn on the light"
BLOCKED = "That URL points to a private or local address, which is not allowed."


@pytest.fixture(scope="module")
def door_wav(tmp_path_factory) -> bytes:
    """A sentence spoken by espeak-ng, as WAV bytes."""
    path = tmp_path_factory.mktemp("speech") / "door.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "120", "-w", str(path), DOOR], check=True)
    return path.read_bytes()


@pytest.fixture
def private_allowed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True


@pytest.fixture
def run_flow(tenant, django_capture_on_commit_callbacks):
    def run(flow, input=None):
        automation = make_automation(tenant.company, flow)
        return start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input=input)

    return run


@pytest.fixture
def sphinx(tenant, django_capture_on_commit_callbacks):
    """A trained asr model of the tenant on the PocketSphinx engine, listening for "door"."""
    model = AIModelFactory(company=tenant.company, algorithm="asr", model_name_or_path="pocketsphinx")
    VocabularyFactory(company=tenant.company, model=model, term="door")
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(
            tenant.admin.client.put("/api/v1/toolbox/tools/model/train", {"modelid": str(model.pk)}, format="json")
        )
    model.refresh_from_db()
    assert model.state == "trained"
    return model


def heard_words(text: str) -> set[str]:
    return {word.strip(".,!?'").lower() for word in text.split()}


def stored(company, audio: bytes | None, **kw) -> Transcript:
    transcript = Transcript(company=company, reference_label="Call", **kw)
    if audio is not None:
        transcript.audio.save("call.wav", ContentFile(audio), save=False)
    transcript.save()
    return transcript


def test_transcribe_a_url_with_the_default_engine(run_flow, echo_server, private_allowed, door_wav):
    echo_server.files["door.wav"] = door_wav
    flow = chain(
        node("hear", "transcribe", url=echo_server.url + "/files/{{ input.name }}", language="en"),
        node("check", "condition", expression="'door' in results.hear.text | lower"),
    )
    run = run_flow(flow, input={"name": "door.wav"})
    assert run.status == COMPLETED, run.explanation
    ran = entries(run)
    output = ran["hear"]["output"]
    assert {"door", "light"} <= heard_words(output["text"]), output["text"]
    assert (output["engine"], output["language"]) == ("faster-whisper", "en")
    assert output["duration"] > 1 and output["segments"][0]["words"]
    assert ran["hear"]["input"] == {
        "modelid": None,
        "language": "en",
        "url": echo_server.url + "/files/door.wav",
        "bytes": len(door_wav),
    }
    assert ran["check"]["branch"] == "true"


def test_transcribe_a_transcript_recording_with_a_given_model(run_flow, tenant, sphinx, door_wav):
    transcript = stored(tenant.company, door_wav)
    flow = chain(node("hear", "transcribe", transcriptid="{{ input.transcript }}", modelid=str(sphinx.pk)))
    run = run_flow(flow, input={"transcript": str(transcript.pk)})
    assert run.status == COMPLETED, run.explanation
    output = entries(run)["hear"]["output"]
    assert output["engine"] == "pocketsphinx"
    assert "door" in heard_words(output["text"]), output["text"]


def test_transcribe_failures_fail_the_run_clearly(run_flow, tenant, outsider, echo_server, private_allowed, settings):
    echo_server.files["notes.txt"] = b"these are not sounds at all" * 20
    theirs = stored(outsider.company, b"RIFF....")
    silent = stored(tenant.company, None)
    cases = [
        ({"url": echo_server.url + "/files/missing.wav"}, "answered 404"),
        ({"url": echo_server.url + "/files/notes.txt"}, ""),
        ({"transcriptid": str(theirs.pk)}, f"Transcript not found ({theirs.pk})."),
        ({"transcriptid": "nope"}, "Transcript not found (nope)."),
        ({"transcriptid": str(silent.pk)}, f"The transcript {silent.pk} has no stored audio."),
    ]
    for node_settings, message in cases:
        run = run_flow(chain(node("hear", "transcribe", **node_settings)))
        assert run.status == FAILED, node_settings
        explanation = entries(run)["hear"]["explanation"]
        assert message in explanation, (node_settings, explanation)
        assert run.explanation == f"Operator 'hear' failed: {explanation}"
    # The same guard as http_request: local addresses are refused unless allowed.
    settings.OUTBOUND_ALLOW_PRIVATE = False
    echo_server.files["x.wav"] = b"RIFF"
    run = run_flow(chain(node("hear", "transcribe", url=echo_server.url + "/files/x.wav")))
    assert run.status == FAILED
    assert BLOCKED in entries(run)["hear"]["explanation"]


def test_a_slow_download_is_stopped_at_the_time_limit(run_flow, echo_server, private_allowed):
    run = run_flow(chain(node("hear", "transcribe", url=echo_server.url + "/slow", timeout=0.5)))
    assert run.status == FAILED
    entry = entries(run)["hear"]
    assert "did not answer in time" in entry["explanation"], entry["explanation"]
    assert entry["elapsed"] < 3


def test_an_untrained_model_fails_the_run(
    tenant, echo_server, private_allowed, door_wav, django_capture_on_commit_callbacks
):
    echo_server.files["door.wav"] = door_wav
    untrained = AIModelFactory(company=tenant.company, algorithm="asr", model_name_or_path="pocketsphinx")
    flow = chain(node("hear", "transcribe", url=echo_server.url + "/files/door.wav", modelid=str(untrained.pk)))
    automation = make_automation(tenant.company, flow)
    run = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks)
    assert run.status == FAILED
    assert "has not been trained yet" in entries(run)["hear"]["explanation"]


@pytest.mark.parametrize(
    ("node_settings", "message"),
    [
        ({}, "node 'hear' (transcribe): give exactly one of the settings 'url' and 'transcriptid'"),
        ({"url": "http://x/a.wav", "transcriptid": "t"}, "give exactly one of the settings 'url' and 'transcriptid'"),
        ({"url": "  "}, "the setting 'url' must be a non-empty template"),
        ({"url": "{{ input.url"}, "node 'hear' (transcribe): a template does not parse"),
        ({"url": "http://x/a.wav", "modelid": "m1"}, "the setting 'modelid' must be the id of an asr model"),
        ({"url": "http://x/a.wav", "modelid": "UNKNOWN"}, "the setting 'modelid' is not an asr model of your group"),
        ({"url": "http://x/a.wav", "modelid": "NLU"}, "the setting 'modelid' is not an asr model of your group"),
        ({"url": "http://x/a.wav", "modelid": "THEIRS"}, "the setting 'modelid' is not an asr model of your group"),
    ],
)
def test_transcribe_settings_are_checked_on_save(tenant, outsider, node_settings, message):
    ids = {
        "UNKNOWN": str(uuid.uuid4()),
        "NLU": str(AIModelFactory(company=tenant.company).pk),
        "THEIRS": str(AIModelFactory(company=outsider.company, algorithm="asr").pk),
    }
    node_settings = {k: ids.get(v, v) for k, v in node_settings.items()}
    flow = {"nodes": [{"id": "hear", "type": "transcribe", "settings": node_settings}]}
    body = assert_envelope_error(tenant.admin.client.post(SAVE, {"name": "F", "flow": flow}, format="json"), 400)
    assert message in body["error"], body["error"]
    assert not Automation.objects.exists()
