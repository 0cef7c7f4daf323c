"""Speech to text with a company's asr models: which recogniser, with which vocabulary, for one recording."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from apps.core.exceptions import Conflict, InvalidInput, NotFound, PayloadTooLarge
from apps.models_registry.asr import audio as audio_io
from apps.models_registry.asr.engines import DEFAULT_ENGINE, Recognition, SpeechRecognizer, recognizer
from apps.models_registry.models import AIModel, Algorithm
from apps.models_registry.selectors import MODEL_NOT_FOUND, artifact_current, asr_model_deployed, model_get

AUDIO_FORMATS = ("wav", "mp3", "flac", "ogg")


@dataclass(frozen=True)
class SpeechSettings:
    """What a trained asr model is: its engine (`model_name_or_path`) and the words it listens for."""

    engine: str = DEFAULT_ENGINE
    hotwords: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> SpeechSettings:
        data = json.loads(blob)
        return cls(
            engine=str(data.get("engine") or DEFAULT_ENGINE), hotwords=[str(w) for w in data.get("hotwords", [])]
        )


def asr_model_get(*, company: Any, modelid: Any) -> AIModel:
    """An asr model of the company; any other id (another algorithm, another company's) is not found."""
    model = model_get(company=company, modelid=modelid)
    if model.algorithm != Algorithm.ASR:
        raise NotFound(MODEL_NOT_FOUND)
    return model


def trained_settings(model: AIModel) -> SpeechSettings:
    """The settings stored by the model's last successful training; Conflict when it was never trained."""
    artifact = artifact_current(model=model)
    if artifact is None:
        raise Conflict("The model has not been trained yet; train it with model/train first.")
    return SpeechSettings.from_bytes(bytes(artifact.data))


def speech_recognizer(*, company: Any, engine: str, user: Any = None) -> SpeechRecognizer:
    """The recogniser an asr model's `model_name_or_path` names (a provider model through the provider layer).

    `user`: the person asking, held to a provider's role limits (None: work on the company's behalf).
    """
    from apps.models_registry.asr.providers import provider_recognizer

    if "." in engine:
        return provider_recognizer(company=company, model_id=engine, user=user)
    return recognizer(engine)


def audio_samples(data: bytes) -> tuple[Any, audio_io.AudioInfo]:
    """Checked, decoded audio (16 kHz mono float32): by content, capped in size and length."""
    if len(data) > settings.ASR_AUDIO_MAX_BYTES:
        raise PayloadTooLarge(f"The audio file is over the limit of {settings.ASR_AUDIO_MAX_BYTES} bytes.")
    info = audio_io.probe(data)
    if info.format not in AUDIO_FORMATS:
        raise InvalidInput(f"The file is {info.format} audio; send wav, mp3, flac or ogg.")
    if info.duration > settings.TRANSCRIPT_AUDIO_MAX_SECONDS:
        raise PayloadTooLarge(
            f"The recording is {info.duration:.0f} s long; the limit is {settings.TRANSCRIPT_AUDIO_MAX_SECONDS} s."
        )
    return audio_io.decode(data), info


def model_transcribe(
    *, company: Any, modelid: str | None, data: bytes, language: str | None = None, user: Any = None
) -> Recognition:
    """Recognise the speech in `data` (wav, mp3, flac or ogg bytes) with an asr model of the company.

    `modelid` None: the company's deployed asr model if it has one, else the default engine with no
    vocabulary. A given `modelid` must be a trained asr model of the company (NotFound, Conflict).
    `language` (ISO 639-1) skips language detection where the engine supports it. Without a model the engine
    is ASR_ENGINE. `user`: the person asking, held to a provider's role limits (None: no person asks).
    """
    model = asr_model_deployed(company=company) if modelid is None else asr_model_get(company=company, modelid=modelid)
    chosen = trained_settings(model) if model is not None else SpeechSettings(engine=settings.ASR_ENGINE)
    language = (language or "").strip().lower() or None
    if language is not None and (len(language) > 8 or not language.replace("-", "").isalpha()):
        raise InvalidInput("Invalid language: use an ISO 639-1 code such as 'en'.")
    engine = speech_recognizer(company=company, engine=chosen.engine, user=user)
    samples, _ = audio_samples(data)
    return engine.transcribe(samples, language=language, hotwords=chosen.hotwords or None)


def model_test_audio(
    *, company: Any, actor: Any, modelid: str, data: bytes, filename: str, language: str | None = None
) -> dict[str, Any]:
    """model/test of an asr model: what it hears in an uploaded recording (text, segments, language, duration)."""
    model = model_get(company=company, modelid=modelid)
    if model.algorithm != Algorithm.ASR:
        raise InvalidInput(f"Only speech (asr) models are tested with an audio file; send `input` text to test a "
                           f"{model.algorithm} model.")  # fmt: skip
    try:
        result = model_transcribe(company=company, modelid=modelid, data=data, language=language, user=actor)
    except (InvalidInput, PayloadTooLarge) as exc:
        raise type(exc)(f"{filename}: {exc.message}") from exc
    heard = result.as_json()
    words = [w["p"] for segment in heard["segments"] for w in segment["words"]]
    return {
        "text": result.text,
        "response": result.text,
        "score": round(sum(words) / len(words), 4) if words else 0.0,
        "intent": None,
        "language": result.language,
        "duration": heard["duration"],
        "engine": result.engine,
        "segments": heard["segments"],
    }
