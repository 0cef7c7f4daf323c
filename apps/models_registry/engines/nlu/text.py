"""Text normalisation for the NLU engine: case, accents, spacing, and the model's vocabulary as synonyms."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)


def normalize(text: str) -> str:
    """Lower case, accents removed, apostrophes unified, spacing collapsed."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


class Synonyms:
    """Vocabulary entries of several forms (`refund|money back|reimbursement`) map every form to the first."""

    def __init__(self, groups: list[list[str]]) -> None:
        self.groups = [[normalize(form) for form in group if normalize(form)] for group in groups]
        self.groups = [group for group in self.groups if len(group) > 1]
        pairs = [(form, group[0]) for group in self.groups for form in group[1:] if form != group[0]]
        pairs.sort(key=lambda pair: -len(pair[0]))  # longest first, so "money back" wins over "money"
        self._pairs = pairs
        self._pattern = re.compile(r"\b(" + "|".join(re.escape(form) for form, _ in pairs) + r")\b") if pairs else None
        self._canonical = dict(pairs)

    @classmethod
    def from_terms(cls, terms: list[str]) -> Synonyms:
        return cls([term.split("|") for term in terms if "|" in term])

    def apply(self, normalized: str) -> str:
        if self._pattern is None:
            return normalized
        return self._pattern.sub(lambda match: self._canonical[match.group(0)], normalized)
