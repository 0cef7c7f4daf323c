"""Entities found in a sentence: built-in types (email, url, phone, number, date) and the values that a model's
slots (their conditions) and vocabulary list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from apps.models_registry.engines.nlu.text import normalize

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
URL = re.compile(r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?!\w)")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
WORD_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + "|".join(MONTHS) + r")(?:\s+(\d{4}))?\b"
    r"|\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b",
    re.IGNORECASE,
)
RELATIVE = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1, "day after tomorrow": 2}
RELATIVE_RE = re.compile(r"\b(day after tomorrow|today|tonight|tomorrow|yesterday)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w.])")
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "hundred": 100,
}  # fmt: skip
NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


@dataclass
class Entity:
    entity: str
    value: Any
    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "utteranceText": self.text, "start": self.start,
                "end": self.end}  # fmt: skip


def _safe_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def builtin_entities(text: str, today: date) -> list[Entity]:
    """Emails, URLs, phone numbers, dates and numbers, without overlaps (the first kind found wins)."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: Any, match: re.Match[str]) -> None:
        start, end = match.span()
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))  # an impossible date is still no phone number
        if value is not None:
            found.append(Entity(kind, value, match.group(0), start, end))

    for m in EMAIL.finditer(text):
        add("email", m.group(0).lower(), m)
    for m in URL.finditer(text):
        add("url", m.group(0).rstrip(".,;:!?)"), m)
    for m in ISO_DATE.finditer(text):
        add("date", _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), m)
    for m in SLASH_DATE.finditer(text):
        add("date", _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1))), m)
    for m in WORD_DATE.finditer(text):
        if m.group(2):
            day, month, year = int(m.group(1)), MONTHS.index(m.group(2).lower()) + 1, m.group(3)
        else:
            day, month, year = int(m.group(5)), MONTHS.index(m.group(4).lower()) + 1, m.group(6)
        add("date", _safe_date(int(year) if year else today.year, month, day), m)
    for m in RELATIVE_RE.finditer(text):
        add("date", (today + timedelta(days=RELATIVE[m.group(1).lower()])).isoformat(), m)
    for m in PHONE.finditer(text):
        if sum(ch.isdigit() for ch in m.group(0)) >= 7:
            add("phone", re.sub(r"[^\d+]", "", m.group(0)), m)
    for m in NUMBER.finditer(text):
        raw = m.group(0).replace(",", ".")
        add("number", float(raw) if "." in raw else int(raw), m)
    for m in NUMBER_WORD_RE.finditer(text):
        add("number", NUMBER_WORDS[m.group(1).lower()], m)
    found.sort(key=lambda entity: entity.start)
    return found


def slot_values(conditions: list[Any]) -> list[tuple[str, list[str]]]:
    """(value, forms) pairs from a slot's conditions: strings, or {"value", "synonyms"} objects."""
    values: list[tuple[str, list[str]]] = []
    for item in conditions:
        if isinstance(item, str) and item.strip():
            values.append((item.strip(), [item.strip()]))
        elif isinstance(item, dict):
            value = item.get("value") or item.get("condition")
            if isinstance(value, str) and value.strip():
                synonyms = [s for s in item.get("synonyms", []) if isinstance(s, str) and s.strip()]
                values.append((value.strip(), [value.strip(), *synonyms]))
    return values


def find_values(text: str, name: str, values: list[tuple[str, list[str]]]) -> list[Entity]:
    """Occurrences of listed values (or their synonyms) in the text, as entities named `name`."""
    lowered = normalize(text)
    found: list[Entity] = []
    for value, forms in values:
        for form in sorted(forms, key=len, reverse=True):
            match = re.search(r"\b" + re.escape(normalize(form)) + r"\b", lowered)
            if match:
                found.append(Entity(name, value, text[match.start() : match.end()], match.start(), match.end()))
                break
    return found
