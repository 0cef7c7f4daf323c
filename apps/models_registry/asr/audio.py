"""Audio decoding without system ffmpeg: soundfile reads wav, mp3, flac and ogg; soxr resamples."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from apps.core.exceptions import InvalidInput

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioInfo:
    """What the file says it is, read from its header (no decoding)."""

    format: str
    duration: float
    sample_rate: int
    channels: int


def probe(data: bytes) -> AudioInfo:
    """Check the bytes are audio soundfile can read; InvalidInput otherwise (by content, not by name)."""
    if not data:
        raise InvalidInput("The audio file is empty.")
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InvalidInput(
            "The file is not audio, or is damaged: this service cannot read it (wav, mp3, flac, ogg)."
        ) from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise InvalidInput("The audio file has no sound in it.")
    return AudioInfo(
        format=info.format.lower(), duration=info.frames / info.samplerate, sample_rate=info.samplerate,
        channels=info.channels,
    )  # fmt: skip


def decode(data: bytes) -> np.ndarray:
    """The whole file as 16 kHz mono float32 samples in [-1, 1]."""
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InvalidInput("The audio file is damaged or truncated and cannot be decoded.") from exc
    if samples.size == 0:
        raise InvalidInput("The audio file has no sound in it.")
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE)
    return np.ascontiguousarray(mono, dtype=np.float32)
