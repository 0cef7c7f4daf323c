"""Transcription minutes and upload size come from the company's plan."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.billing.services.limits import usage_used
from apps.core.limits import TRANSCRIPTION_SECONDS
from apps.core.testing import assert_envelope_error, assert_ok
from apps.transcripts.models import Transcript

UPLOAD = "/api/v1/toolbox/tools/transcript/upload"


def tone(seconds: float, rate: int = 16_000, subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    sf.write(out, np.zeros(int(rate * seconds), dtype="float32"), rate, format="WAV", subtype=subtype)
    return out.getvalue()


def upload(client, content: bytes):
    payload = {"reference_label": "x", "file": SimpleUploadedFile("a.wav", content)}
    return client.put(UPLOAD, payload, format="multipart")


def test_minutes_are_counted_and_the_monthly_allowance_is_enforced(tenant):
    assert_ok(upload(tenant.user.client, tone(90)))
    assert usage_used(company=tenant.company, resource=TRANSCRIPTION_SECONDS) == 90
    # The NONE plan allows 30 minutes a month: 28.5 are left, so 29 minutes are refused.
    response = upload(tenant.user.client, tone(29 * 60, rate=1_000, subtype="PCM_U8"))  # long but small
    assert_envelope_error(response, 429, "per month")
    assert int(response["Retry-After"]) > 0
    assert Transcript.objects.count() == 1
    assert usage_used(company=tenant.company, resource=TRANSCRIPTION_SECONDS) == 90


def test_upload_size_comes_from_the_plan(tenant, settings):
    settings.TRANSCRIPT_AUDIO_MAX_BYTES = 100 * 1024 * 1024
    big = tone(11 * 1024 * 1024 / 2 / 16_000)  # 11 MB of 16-bit samples; the NONE plan allows 10 MB
    assert_envelope_error(upload(tenant.user.client, big), 413, "at most 10 MB")
    assert not Transcript.objects.exists()
