"""Speech recognition by an OpenAI-compatible provider: `POST {endpoint}/v1/audio/transcriptions`.

The provider is one of the company's LLM providers (`provider.model` in the asr model's
`model_name_or_path`), reached with the company's key through the guarded outbound client.

A provider limited to some roles (`allowed_roles`) is used by an asr model only when the person who saves,
trains or tests the model holds one of them (a Company Admin and the key pair always do); work that runs for
the company with no person behind it (transcript uploads, automations) uses the model as it was saved.
"""

from __future__ import annotations

import io
import json
import secrets
from typing import Any

import numpy as np
import soundfile as sf
from django.conf import settings

from apps.core.crypto import decrypt_text
from apps.core.exceptions import NotFound, PermissionDenied, ServiceUnavailable
from apps.core.outbound import fetch
from apps.models_registry.asr.audio import SAMPLE_RATE
from apps.models_registry.asr.engines import Recognition, Segment, Word
from apps.models_registry.providers.engines import ProviderError, ProviderModelNotFound, ProviderRejected
from apps.models_registry.providers.models import LLMProvider, ProviderKind


def _wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _multipart(fields: dict[str, str], audio: bytes) -> tuple[bytes, str]:
    boundary = f"----asr{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="audio.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n".encode()
    )
    parts.append(audio)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _error(status: int, body: bytes) -> ProviderError:
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    message = ""
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        message = str(error.get("message", "") if isinstance(error, dict) else error or "")
    suffix = f": {' '.join(message.split())[:300]}" if message else "."
    if status == 404:
        return ProviderModelNotFound(f"Model not found at the provider{suffix}")
    if status in (401, 403):
        return ProviderError(f"The speech provider refused the configured API key ({status}).")
    if 400 <= status < 500:
        return ProviderRejected(f"The speech provider rejected the request{suffix}")
    return ProviderError(f"The speech provider answered with an error ({status}){suffix}")


class ProviderRecognizer:
    """An OpenAI-compatible transcription endpoint (verbose_json: text, language, segments, words)."""

    name = "provider"

    def __init__(self, *, endpoint: str, api_key: str, model: str) -> None:
        base = endpoint.rstrip("/")
        self.url = f"{base}/audio/transcriptions" if base.endswith("/v1") else f"{base}/v1/audio/transcriptions"
        self.api_key = api_key
        self.model = model

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, hotwords: list[str] | None = None
    ) -> Recognition:
        fields = {"model": self.model, "response_format": "verbose_json", "timestamp_granularities[]": "segment"}
        if language:
            fields["language"] = language
        if hotwords:
            fields["prompt"] = ", ".join(hotwords[:50])
        body, content_type = _multipart(fields, _wav(samples))
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        result = fetch(
            self.url,
            method="POST",
            headers=headers,
            body=body,
            timeout=settings.ASR_PROVIDER_TIMEOUT_SECONDS,
            max_bytes=settings.OUTBOUND_MAX_BYTES,
        )
        if result.status >= 300:
            raise _error(result.status, result.body)
        try:
            data = json.loads(result.body)
        except ValueError as exc:
            raise ProviderError("The speech provider's answer is not JSON.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise ProviderError("The speech provider's answer has no text.")
        return _recognition(data, duration=len(samples) / SAMPLE_RATE, engine=f"provider:{self.model}")


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) else default


def _recognition(data: dict[str, Any], *, duration: float, engine: str) -> Recognition:
    words = [
        Word(_number(w.get("start")), _number(w.get("end")), str(w.get("word", "")).strip(), 1.0)
        for w in data.get("words") or []
        if isinstance(w, dict)
    ]
    segments: list[Segment] = []
    for raw in data.get("segments") or []:
        if not isinstance(raw, dict):
            continue
        start, end = _number(raw.get("start")), _number(raw.get("end"))
        inside = [w for w in words if start <= w.start < end or (w.start == end == start)]
        segments.append(Segment(start=start, end=end, text=str(raw.get("text", "")).strip(), words=inside))
    text = data["text"].strip()
    if not segments and text:
        segments = [Segment(start=0.0, end=_number(data.get("duration"), duration), text=text, words=words)]
    language = str(data.get("language") or "")
    return Recognition(
        text=text, language=_LANGUAGE_CODES.get(language.lower(), language), duration=duration, segments=segments,
        engine=engine,
    )  # fmt: skip


# OpenAI's verbose_json names the language in English ("english"); the other engines give ISO 639-1 codes.
_LANGUAGE_CODES = {
    "english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "polish": "pl", "russian": "ru", "chinese": "zh", "japanese": "ja", "korean": "ko",
}  # fmt: skip


def _may_use(provider: LLMProvider, user: Any) -> bool:
    return not provider.allowed_roles or user is None or user.has_any_role(provider.allowed_roles)


def provider_roles_check(*, company: Any, user: Any, model_id: str) -> None:
    """Refuse (403) a `provider.model` whose provider is limited to roles `user` does not hold.

    `user` None: no person asks (a worker on the company's behalf), nothing to check. An unknown provider
    passes here; it is refused where the recogniser is made.
    """
    if user is None or "." not in model_id:
        return
    provider_name = model_id.partition(".")[0]
    for provider in LLMProvider.objects.for_company(company).filter(name=provider_name).only("allowed_roles"):
        if not _may_use(provider, user):
            raise PermissionDenied(f"You do not have permission to use the speech model '{model_id}'.")


def provider_recognizer(*, company: Any, model_id: str, user: Any = None) -> ProviderRecognizer:
    """The recogniser for `provider.model`: the company's active OpenAI-compatible provider, with its key.

    With `user` (a person's request), a provider limited to roles they do not hold is refused (403).
    """
    provider_name, _, upstream_model = model_id.partition(".")
    provider = (
        LLMProvider.objects.for_company(company)
        .filter(name=provider_name, is_active=True, kind=ProviderKind.OPENAI)
        .first()
        if provider_name and upstream_model
        else None
    )
    if provider is None:
        raise NotFound(
            f"Speech model '{model_id}' not found: name an active OpenAI-compatible provider of your company "
            "as provider.model, or faster-whisper-base, or pocketsphinx."
        )
    if not _may_use(provider, user):
        raise PermissionDenied(f"You do not have permission to use the speech model '{model_id}'.")
    try:
        api_key = decrypt_text(provider.api_key_encrypted) if provider.api_key_encrypted else ""
    except ValueError as exc:
        raise ServiceUnavailable("The provider's key cannot be read with the configured encryption keys.") from exc
    return ProviderRecognizer(endpoint=provider.api_endpoint, api_key=api_key, model=upstream_model)
