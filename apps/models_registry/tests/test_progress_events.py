"""Training and transcription jobs push their state and progress to the company's events group."""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest
import soundfile as sf
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core import realtime
from apps.core.testing import assert_ok
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory

TRAIN = BASE + "model/train"
UPLOAD = "/api/v1/toolbox/tools/transcript/upload"
CORPUS = [
    {"intent": "greet", "utterances": ["hello there", "hi", "good morning"]},
    {"intent": "bye", "utterances": ["goodbye", "see you later", "bye now"]},
]


class Listener:
    """A channel in one company's events group, read from sync test code."""

    def __init__(self, company_id) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(realtime.company_group(company_id), self.channel)

    def events(self, *, until_state: str, timeout: float = 5.0) -> list[dict]:
        async def collect() -> list[dict]:
            found: list[dict] = []
            while True:
                message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
                assert message["type"] == realtime.COMPANY_EVENT
                found.append(message["event"])
                if message["event"]["state"] == until_state:
                    return found

        return async_to_sync(collect)()

    def nothing(self) -> bool:
        async def probe() -> bool:
            try:
                await asyncio.wait_for(self.layer.receive(self.channel), 0.3)
            except TimeoutError:
                return True
            return False

        return async_to_sync(probe)()


def test_training_progress_reaches_the_companys_group_only(tenant, outsider, django_capture_on_commit_callbacks):
    mine, theirs = Listener(tenant.company.pk), Listener(outsider.company.pk)
    model = AIModelFactory(company=tenant.company, input=CORPUS)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(tenant.admin.client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))

    events = mine.events(until_state="trained")
    assert {e["job"] for e in events} == {"training"}
    assert {e["id"] for e in events} == {str(model.pk)}
    assert events[0]["state"] == "queued" and events[0]["progress"] == 0
    assert events[-1]["state"] == "trained" and events[-1]["progress"] == 100
    progress = [e["progress"] for e in events if e["state"] == "training"]
    assert len(progress) >= 2 and progress == sorted(progress)
    json.dumps(events)  # what reaches a socket is plain JSON
    assert theirs.nothing()


def test_a_failed_training_says_why(tenant, django_capture_on_commit_callbacks):
    listener = Listener(tenant.company.pk)
    model = AIModelFactory(company=tenant.company, input=[])
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(tenant.admin.client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))
    failed = listener.events(until_state="failed")[-1]
    assert failed["error"].startswith("There is nothing to learn from")
    model.refresh_from_db()
    assert failed["error"] == model.error


@pytest.mark.parametrize("damaged", [False, True])
def test_transcription_progress(tenant, damaged, django_capture_on_commit_callbacks):
    listener = Listener(tenant.company.pk)
    out = io.BytesIO()
    sf.write(out, np.zeros(8_000, dtype="float32"), 16_000, format="WAV")
    audio = out.getvalue()
    upload = {"reference_label": "Quiet", "file": SimpleUploadedFile("quiet.wav", audio)}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tid = assert_ok(tenant.admin.client.put(UPLOAD, upload, format="multipart"))["transcriptid"]
    if damaged:
        from apps.transcripts.models import Transcript

        row = Transcript.objects.get(pk=tid)
        with row.audio.open("wb") as handle:
            handle.write(b"RIFF\x00\x00\x00\x00WAVEbroken")
    for callback in callbacks:
        callback()
    events = listener.events(until_state="failed" if damaged else "completed")
    assert {(e["job"], e["id"]) for e in events} == {("transcription", tid)}
    assert [e["progress"] for e in events if e["state"] == "processing"] == [5, 15]
    if damaged:
        assert "damaged" in events[-1]["error"]
    else:
        assert events[-1]["progress"] == 100


@pytest.mark.worker
def test_an_asr_model_trains_in_a_real_worker_and_its_progress_crosses_processes(tenant, celery_worker):
    from apps.models_registry.models import AIModel, ModelArtifact
    from apps.models_registry.tests.factories import VocabularyFactory

    listener = Listener(tenant.company.pk)
    model = AIModelFactory(company=tenant.company, algorithm="asr", model_name_or_path="pocketsphinx")
    VocabularyFactory(company=tenant.company, model=model, term="door|gate")
    assert_ok(tenant.admin.client.put(TRAIN, {"modelid": str(model.pk)}, format="json"))
    events = listener.events(until_state="trained", timeout=120)
    assert events[0]["state"] == "queued"
    assert "training" in {e["state"] for e in events}
    trained = AIModel.objects.get(pk=model.pk)
    assert (trained.state, trained.version, trained.error) == ("trained", 1, ""), celery_worker.log()[-2000:]
    artifact = ModelArtifact.objects.get(model=model, version=1)
    assert json.loads(bytes(artifact.data)) == {"engine": "pocketsphinx", "hotwords": ["door", "gate"]}
