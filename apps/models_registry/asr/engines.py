"""Speech recognisers behind one small Protocol and a registry."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from django.conf import settings

from apps.core.exceptions import InvalidInput
from apps.models_registry.asr.audio import SAMPLE_RATE


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Recognition:
    """What a recogniser heard."""

    text: str
    language: str
    duration: float
    segments: list[Segment]
    engine: str

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "duration": round(self.duration, 3),
            "engine": self.engine,
            "segments": [
                {
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text,
                    "words": [
                        {
                            "start": round(w.start, 3),
                            "end": round(w.end, 3),
                            "word": w.word,
                            "p": round(w.probability, 3),
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }


class SpeechRecognizer(Protocol):
    """Turns 16 kHz mono float32 samples into text; `hotwords` bias it toward a vocabulary."""

    name: str

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, hotwords: list[str] | None = None
    ) -> Recognition: ...


class FasterWhisperRecognizer:
    """faster-whisper (CTranslate2) with the `base` model, int8 on the CPU; loaded once per process."""

    name = "faster-whisper"
    _model: Any = None
    _lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if FasterWhisperRecognizer._model is None:
                from faster_whisper import WhisperModel

                from apps.models_registry.asr.whisper_model import model_directory

                FasterWhisperRecognizer._model = WhisperModel(
                    str(model_directory()),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=settings.ASR_CPU_THREADS,
                    local_files_only=True,
                )
            return FasterWhisperRecognizer._model

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, hotwords: list[str] | None = None
    ) -> Recognition:
        model = self._load()
        prompt = ", ".join(hotwords[:50]) if hotwords else None
        raw_segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=settings.ASR_BEAM_SIZE,
            word_timestamps=True,
            vad_filter=False,
            initial_prompt=prompt,
            hotwords=prompt,
            condition_on_previous_text=False,
        )
        segments = [
            Segment(
                start=float(s.start),
                end=float(s.end),
                text=s.text.strip(),
                words=[Word(float(w.start), float(w.end), w.word.strip(), float(w.probability)) for w in s.words or []],
            )
            for s in raw_segments
        ]
        text = " ".join(s.text for s in segments if s.text).strip()
        return Recognition(
            text=text, language=info.language, duration=len(samples) / SAMPLE_RATE, segments=segments, engine=self.name
        )


RECOGNIZERS: dict[str, type] = {"faster-whisper": FasterWhisperRecognizer}


def recognizer(name: str | None = None) -> SpeechRecognizer:
    """The recogniser registered under `name` (default: ASR_ENGINE)."""
    key = name or settings.ASR_ENGINE
    try:
        return RECOGNIZERS[key]()
    except KeyError as exc:
        raise InvalidInput(f"Unknown speech engine {key!r}. Known: {', '.join(RECOGNIZERS)}.") from exc
