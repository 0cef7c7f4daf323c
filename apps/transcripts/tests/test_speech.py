"""Audio in, text out: speech generated with espeak-ng, recognised by faster-whisper in a job."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.testing import assert_envelope_error, assert_ok, wait_for
from apps.transcripts.models import Transcript

UPLOAD = "/api/v1/toolbox/tools/transcript/upload"
GET = "/api/v1/toolbox/tools/transcript/get"
RETRY = "/api/v1/toolbox/tools/transcript/retry"
SENTENCE = "The quick brown fox jumps over the lazy dog. Please schedule the meeting for Tuesday morning."

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (make test installs it)")


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> bytes:
    path: Path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), SENTENCE], check=True)
    return path.read_bytes()


def _as(format_: str, wav: bytes) -> bytes:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples, rate, format=format_)
    return out.getvalue()


def upload(client, content: bytes, name: str = "speech.wav", **fields):
    payload = {"reference_label": "Dictation", "tags": ["voice"], "file": SimpleUploadedFile(name, content), **fields}
    return client.put(UPLOAD, payload, format="multipart")


def heard(text: str) -> set[str]:
    return {word.strip(".,!?").lower() for word in text.split()}


def test_upload_answers_at_once_then_the_job_fills_in_the_text(tenant, speech_wav, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = assert_ok(upload(tenant.user.client, speech_wav))
    assert body["message"] == "Audio file uploaded successfully"
    pending = assert_ok(tenant.user.client.get(f"{GET}/{body['transcriptid']}"))["transcript"]
    assert (pending["status"], pending["state"]) == (False, "queued")
    for callback in callbacks:  # the job, run in this process (eager)
        callback()
    done = assert_ok(tenant.user.client.get(f"{GET}/{body['transcriptid']}"))["transcript"]
    assert (done["status"], done["state"], done["progress"]) == (True, "completed", 100)
    assert {"quick", "fox", "lazy", "dog", "meeting", "tuesday"} <= heard(done["transcript"])
    assert done["audio_seconds"] > 3
    words = [w for segment in done["segments"] for w in segment["words"]]
    assert words and all(w["end"] >= w["start"] for w in words)
    assert done["engine"] == "faster-whisper"


def test_mp3_is_accepted(tenant, speech_wav, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = assert_ok(upload(tenant.user.client, _as("MP3", speech_wav), name="speech.mp3"))
    row = Transcript.objects.get(pk=body["transcriptid"])
    assert row.audio_format == "mp3"
    assert row.state == "completed"
    assert "fox" in heard(row.text)


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"this is plain text, not audio at all", 400, "not audio"),
        (b"", 400, "empty"),
        (b"%PDF-1.4 fake", 400, "not audio"),
    ],
)
def test_upload_refuses_what_is_not_audio(tenant, content, status, message):
    assert_envelope_error(upload(tenant.user.client, content), status, message)
    assert not Transcript.objects.exists()


def test_upload_refuses_other_audio_types_and_limits(tenant, speech_wav, settings):
    assert_envelope_error(upload(tenant.user.client, _as("FLAC", speech_wav), name="a.wav"), 400, "mp3 or wav")
    settings.TRANSCRIPT_AUDIO_MAX_SECONDS = 2
    assert_envelope_error(upload(tenant.user.client, speech_wav), 413, "limit is 2 s")
    settings.TRANSCRIPT_AUDIO_MAX_BYTES = 4096
    assert_envelope_error(upload(tenant.user.client, speech_wav), 413, "speech.wav")
    assert_envelope_error(upload(tenant.user.client, speech_wav, reference_label=""), 400, "reference_label")
    assert not Transcript.objects.exists()


def test_a_truncated_recording_never_fails_with_a_500(tenant, speech_wav, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(tenant.user.client, speech_wav[: len(speech_wav) // 3])
    if response.status_code == 400:
        assert_envelope_error(response, 400)
        return
    row = Transcript.objects.get(pk=assert_ok(response)["transcriptid"])
    assert row.state in ("completed", "failed")
    if row.state == "failed":
        assert row.error


def test_a_failed_job_records_its_error_and_can_be_retried(tenant, speech_wav, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tid = assert_ok(upload(tenant.user.client, speech_wav))["transcriptid"]
    row = Transcript.objects.get(pk=tid)
    original = row.audio.read()
    row.audio.close()
    with row.audio.open("wb") as handle:  # the stored file is damaged before the job runs
        handle.write(b"RIFF\x00\x00\x00\x00WAVEbroken")
    for callback in callbacks:
        callback()
    failed = assert_ok(tenant.user.client.get(f"{GET}/{tid}"))["transcript"]
    assert (failed["state"], failed["status"]) == ("failed", False)
    assert "damaged" in failed["error"] or "cannot" in failed["error"]

    with row.audio.open("wb") as handle:
        handle.write(original)
    with django_capture_on_commit_callbacks(execute=True):
        body = assert_ok(tenant.user.client.put(f"{RETRY}/{tid}"))
    assert body["state"] == "queued"
    assert Transcript.objects.get(pk=tid).state == "completed"
    assert_envelope_error(tenant.user.client.put(f"{RETRY}/{tid}"), 409)


def test_retry_of_another_companys_transcript_is_not_found(tenant, outsider, speech_wav):
    tid = assert_ok(upload(outsider.user.client, speech_wav))["transcriptid"]
    assert_envelope_error(tenant.admin.client.put(f"{RETRY}/{tid}"), 404)


def test_decoding_resamples_to_16k_mono():
    from apps.models_registry.asr.audio import decode

    stereo = np.stack([np.sin(np.linspace(0, 440, 44_100)), np.zeros(44_100)], axis=1).astype("float32")
    out = io.BytesIO()
    sf.write(out, stereo, 44_100, format="WAV")
    samples = decode(out.getvalue())
    assert samples.dtype == np.float32
    assert abs(len(samples) - 16_000) <= 2


@pytest.mark.worker
def test_upload_through_a_real_celery_worker(celery_worker, tenant, speech_wav):
    tid = assert_ok(upload(tenant.user.client, speech_wav))["transcriptid"]

    def finished():
        row = Transcript.objects.get(pk=tid)
        return row if row.state in ("completed", "failed") else None

    row = wait_for(finished, timeout=120, interval=0.5)
    assert row.state == "completed", (row.error, celery_worker.log()[-2000:])
    assert {"quick", "fox", "lazy", "dog"} <= heard(row.text)
