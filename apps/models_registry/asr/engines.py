"""Speech recognisers behind one small Protocol and a registry."""

from __future__ import annotations

import re
import tempfile
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
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        if language and language not in _LANGUAGE_CODES:
            raise InvalidInput(f"Whisper does not know the language {language!r}; use an ISO 639-1 code such as 'en'.")
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


class PocketSphinxRecognizer:
    """PocketSphinx with the English model its wheel ships: light and fast, far less accurate than Whisper.

    Hotwords bias it by keyword spotting: a second pass listens for each hotword phrase (those whose
    words the dictionary knows) and a phrase it spots replaces the words first heard at that time.
    """

    name = "pocketsphinx"
    FRAMES_PER_SECOND = 100
    _decoder: Any = None
    _lock = threading.Lock()

    def _load(self) -> Any:
        if PocketSphinxRecognizer._decoder is None:
            from pocketsphinx import Decoder

            # One forward pass with a bounded number of active HMMs: on flite speech about twice as fast as the
            # default three passes, with a lower word error rate (16.5% against 20.4%, bench/transcripts.py).
            PocketSphinxRecognizer._decoder = Decoder(
                samprate=SAMPLE_RATE, loglevel="FATAL", fwdflat=False, bestpath=False, maxhmmpf=3000
            )
        return PocketSphinxRecognizer._decoder

    @staticmethod
    def _run(decoder: Any, pcm: bytes) -> list[tuple[str, int, int, float]]:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        return [(seg.word, seg.start_frame, seg.end_frame, float(seg.prob)) for seg in decoder.seg() or []]

    def _spot(self, decoder: Any, pcm: bytes, hotwords: list[str]) -> list[tuple[str, int, int, float]]:
        phrases = []
        for hotword in hotwords:
            phrase = " ".join(hotword.lower().split())
            if phrase and all(decoder.lookup_word(word) for word in phrase.split()) and phrase not in phrases:
                phrases.append(phrase)
        if not phrases:
            return []
        threshold = settings.ASR_POCKETSPHINX_KWS_THRESHOLD
        with tempfile.NamedTemporaryFile("w", suffix=".kws", encoding="utf-8") as keyfile:
            keyfile.write("".join(f"{phrase} /{threshold}/\n" for phrase in phrases[:200]))
            keyfile.flush()
            decoder.add_kws("hotwords", keyfile.name)
        decoder.activate_search("hotwords")
        try:
            return self._run(decoder, pcm)
        finally:
            decoder.activate_search("_default")

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, hotwords: list[str] | None = None
    ) -> Recognition:
        if language and language.split("-")[0] != "en":
            raise InvalidInput("PocketSphinx recognises English only; use faster-whisper-base for other languages.")
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            decoder = self._load()
            heard = self._run(decoder, pcm)
            spotted = self._spot(decoder, pcm, hotwords) if hotwords else []
        fps = self.FRAMES_PER_SECOND
        words = [
            Word(start / fps, (end + 1) / fps, _DICT_VARIANT.sub("", word), probability)
            for word, start, end, probability in heard
            if not (word.startswith(("<", "[")) and word.endswith((">", "]")))
        ]
        for phrase, start, end, probability in spotted:
            begin, finish = start / fps, (end + 1) / fps
            words = [w for w in words if w.end <= begin or w.start >= finish]
            words.append(Word(begin, finish, phrase.strip(), probability))
        words.sort(key=lambda w: w.start)
        segments: list[Segment] = []
        for word in words:  # a pause of over 0.6 s starts a new segment
            if segments and word.start - segments[-1].end <= 0.6:
                segments[-1].words.append(word)
                segments[-1].end = word.end
            else:
                segments.append(Segment(start=word.start, end=word.end, text="", words=[word]))
        for segment in segments:
            segment.text = " ".join(w.word for w in segment.words)
        text = " ".join(segment.text for segment in segments)
        return Recognition(
            text=text, language="en", duration=len(samples) / SAMPLE_RATE, segments=segments, engine=self.name
        )


_DICT_VARIANT = re.compile(r"\(\d+\)$")  # "the(2)": the dictionary's second pronunciation of "the"

# The names an asr model's `model_name_or_path` may give; any other `provider.model` is a provider's model.
DEFAULT_ENGINE = "faster-whisper-base"
RECOGNIZERS: dict[str, type] = {DEFAULT_ENGINE: FasterWhisperRecognizer, "pocketsphinx": PocketSphinxRecognizer}
ALIASES = {"faster-whisper": DEFAULT_ENGINE, "": DEFAULT_ENGINE}


def recognizer(name: str | None = None) -> SpeechRecognizer:
    """The local recogniser registered under `name` (default: ASR_ENGINE)."""
    key = name if name is not None else settings.ASR_ENGINE
    key = ALIASES.get(key, key)
    try:
        return RECOGNIZERS[key]()
    except KeyError as exc:
        raise InvalidInput(f"Unknown speech engine {key!r}. Known: {', '.join(RECOGNIZERS)}.") from exc
