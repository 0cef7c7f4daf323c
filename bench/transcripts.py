"""Transcripts benchmark: speech recognition speed and accuracy, and PDF export of a long transcript.

Run: .venv/bin/python bench/transcripts.py   (needs espeak-ng; flite is used when installed)
Prints one table: both local engines (faster-whisper base, PocketSphinx) on the same speech, generated
from known sentences, so the word error rate is exact.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup()

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from apps.models_registry.asr.audio import SAMPLE_RATE, decode  # noqa: E402
from apps.models_registry.asr.engines import recognizer  # noqa: E402

SENTENCES = [
    "The quarterly report shows that revenue grew by twelve percent.",
    "Please send the signed contract to the legal team before Friday.",
    "Our customers asked for faster delivery and clearer invoices.",
    "The new warehouse opens in March with two hundred employees.",
    "We will review the marketing budget at the next board meeting.",
    "Security updates must be installed on every laptop this week.",
    "The support team answered most tickets within one hour.",
    "Remember to book the conference room for the training session.",
    "The product launch was moved to the second half of the year.",
    "Thank you all for joining the call and for your questions.",
]
VOICES = [("espeak-ng", "en-us"), ("espeak-ng", "en-gb"), ("espeak-ng", "en-gb-scotland"), ("flite", "slt")]


def speak(engine: str, voice: str, text: str, out: Path) -> bool:
    if shutil.which(engine) is None:
        return False
    if engine == "espeak-ng":
        subprocess.run([engine, "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    else:
        subprocess.run([engine, "-voice", voice, "-t", text, "-o", str(out)], check=True, capture_output=True)
    return True


def to_wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def normalise(text: str) -> str:
    return jiwer.RemovePunctuation()(text.lower()).replace("  ", " ").strip()


ENGINES = ("faster-whisper-base", "pocketsphinx")


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    result = None
    with tempfile.TemporaryDirectory() as tmp:
        # A recording of about 60 s (the job's path: decode + resample + recognise) and the sentences per voice.
        pieces, rate = [], 22_050
        while sum(len(p) for p in pieces) / rate < 60:
            for index, sentence in enumerate(SENTENCES):
                path = Path(tmp) / f"s{index}.wav"
                speak("espeak-ng", "en-us", sentence, path)
                samples, rate = sf.read(path, dtype="float32")
                pieces.extend([samples, np.zeros(rate // 2, dtype=np.float32)])
        recording = to_wav_bytes(np.concatenate(pieces)[: 60 * rate], rate)
        voices: dict[tuple[str, str], list[np.ndarray]] = {}
        for tts, voice in VOICES:
            clips = []
            for index, sentence in enumerate(SENTENCES):
                path = Path(tmp) / f"{tts}-{voice}-{index}.wav"
                if not speak(tts, voice, sentence, path):
                    break
                clips.append(decode(path.read_bytes()))
            voices[(tts, voice)] = clips

        for name in ENGINES:
            engine = recognizer(name)
            engine.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))  # load the model once, outside the timings
            started = time.perf_counter()
            heard = engine.transcribe(decode(recording))
            elapsed = time.perf_counter() - started
            result = result or heard
            rows.append((f"{name}: upload-to-text, 60 s recording", f"{elapsed:.1f} s", f"RTF {elapsed / 60:.2f}"))

            # Word error rate per voice on the known sentences.
            for (tts, voice), clips in voices.items():
                if not clips:
                    rows.append((f"{name}: WER {tts} {voice}", "n/a", f"{tts} not installed"))
                    continue
                hyps, spent = [], 0.0
                for samples in clips:
                    started = time.perf_counter()
                    hyps.append(normalise(engine.transcribe(samples, language="en").text))
                    spent += time.perf_counter() - started
                audio_seconds = sum(len(samples) for samples in clips) / SAMPLE_RATE
                wer = jiwer.wer([normalise(sentence) for sentence in SENTENCES], hyps)
                rows.append((f"{name}: WER {tts} {voice}", f"{wer * 100:.1f} %", f"RTF {spent / audio_seconds:.2f}"))
    rows.append(("load average while measured", f"{os.getloadavg()[0]:.1f}", f"{os.cpu_count()} cores"))

    # PDF export of a 2-hour transcript (about 150 words a minute, speaker turns of 40 words).
    from types import SimpleNamespace

    from django.utils import timezone

    from apps.transcripts.exporters import to_pdf

    words = ("we discussed the plan and agreed on the next steps for the team " * 2000).split()[: 2 * 60 * 150]
    turns = [f"Speaker {i % 3 + 1}: " + " ".join(words[i : i + 40]) for i in range(0, len(words), 40)]
    fake = SimpleNamespace(
        reference_label="Two-hour workshop", description="Benchmark", speakers=["Speaker 1", "Speaker 2", "Speaker 3"],
        tags=["bench"], state="completed", created_at=timezone.now(), text="\n".join(turns),
    )  # fmt: skip
    started = time.perf_counter()
    pdf = to_pdf([fake])  # type: ignore[list-item]
    elapsed = time.perf_counter() - started
    rows.append(("PDF export, 2-hour transcript (18,000 words)", f"{elapsed:.2f} s", f"{len(pdf) / 1e6:.1f} MB"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    if result is not None:
        print(f"\n(60 s recording recognised by {ENGINES[0]} as: {result.text[:80]}...)")


if __name__ == "__main__":
    main()
