"""Transcript files in: txt, vtt, srt, docx and pdf, recognised by content, with speakers and timings."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import webvtt

from apps.core.documents import docx_text, pdf_text, zip_names
from apps.core.exceptions import InvalidInput, UnsupportedMediaType

# "Name: what they said" — a short name of up to four words, starting with a letter.
_SPEAKER_LINE = re.compile(r"^\s*([^\W\d_][\w .'\-]{0,38}?)\s*:\s+(\S.*)$")
_VOICE_TAG = re.compile(r"<v(?:\.[\w.]+)?\s+([^>]+)>")
_TAGS = re.compile(r"<[^>]+>")
_SRT_TIMING = re.compile(r"^\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", re.MULTILINE)


@dataclass
class ParsedTranscript:
    """What an imported file holds."""

    format: str
    text: str
    speakers: list[str] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)


def split_speaker(line: str) -> tuple[str | None, str]:
    match = _SPEAKER_LINE.match(line)
    if match and len(match.group(1).split()) <= 4:
        return match.group(1).strip(), match.group(2).strip()
    return None, line.strip()


def _from_lines(lines: list[str], fmt: str) -> ParsedTranscript:
    speakers: list[str] = []
    segments: list[dict[str, Any]] = []
    out: list[str] = []
    for raw in lines:
        if not raw.strip():
            continue
        speaker, said = split_speaker(raw)
        if speaker and speaker not in speakers:
            speakers.append(speaker)
        segments.append({"speaker": speaker, "text": said})
        out.append(f"{speaker}: {said}" if speaker else said)
    return ParsedTranscript(fmt, "\n".join(out), speakers, segments)


def _timed(captions: list[Any], fmt: str) -> ParsedTranscript:
    speakers: list[str] = []
    segments: list[dict[str, Any]] = []
    out: list[str] = []
    for caption in captions:
        raw = caption.raw_text if hasattr(caption, "raw_text") else caption.text
        voice = _VOICE_TAG.search(raw or "")
        text = " ".join(_TAGS.sub("", raw or "").split())
        speaker = voice.group(1).strip() if voice else None
        if speaker is None:
            speaker, text = split_speaker(text)
        if not text:
            continue
        if speaker and speaker not in speakers:
            speakers.append(speaker)
        segments.append({"start": _secs(caption.start), "end": _secs(caption.end), "speaker": speaker, "text": text})
        out.append(f"{speaker}: {text}" if speaker else text)
    return ParsedTranscript(fmt, "\n".join(out), speakers, segments)


def _secs(stamp: str) -> float:
    hours, minutes, seconds = stamp.replace(",", ".").split(":")
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def _text(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise UnsupportedMediaType("Unsupported file type. Import txt, vtt, srt, docx or pdf.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType("Text files must be UTF-8. Import txt, vtt, srt, docx or pdf.") from exc


def _is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK"):
        return False
    names = zip_names(data)
    return names is not None and "word/document.xml" in names


def parse(data: bytes, filename: str = "") -> ParsedTranscript:
    """Read a transcript file of any supported format; the format comes from the content."""
    if not data or not data.strip():
        raise InvalidInput(f"The file {filename or ''} is empty.".replace("  ", " "))
    if data.startswith(b"%PDF-"):
        return _from_lines(pdf_text(filename or "file", data).splitlines(), "pdf")
    if _is_docx(data):
        return _from_lines(docx_text(filename or "file", data).splitlines(), "docx")
    if data.startswith(b"PK"):
        raise UnsupportedMediaType("Unsupported file type. Import txt, vtt, srt, docx or pdf.")
    text = _text(data)
    if text.lstrip().startswith("WEBVTT"):
        try:
            captions = list(webvtt.from_buffer(io.StringIO(text)))  # type: ignore[call-overload]
        except webvtt.errors.MalformedFileError as exc:
            raise InvalidInput(f"The WebVTT file {filename} is malformed: {exc}") from exc
        return _timed(captions, "vtt")
    if _SRT_TIMING.search(text):
        try:
            captions = list(webvtt.from_buffer(io.StringIO(text), format="srt"))  # type: ignore[call-overload]
        except (webvtt.errors.MalformedFileError, ValueError) as exc:
            raise InvalidInput(f"The SRT file {filename} is malformed: {exc}") from exc
        return _timed(captions, "srt")
    return _from_lines(text.splitlines(), "txt")
