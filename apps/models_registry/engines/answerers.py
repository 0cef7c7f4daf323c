"""Answerers turn a question and the passages retrieval found into an answer, behind one small Protocol.

The built-in `ExtractiveAnswerer` needs no network: it returns the passages' sentences that share the most
(rarest) words with the question. It is the `builtin` provider's behaviour for llm models; a model whose
`model_name_or_path` names a provider is answered by that provider, with the same passages and vocabulary as
context (`providers.engines.Grounding`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from apps.models_registry.engines.nlu.text import normalize, words
from apps.models_registry.engines.retrieval import Hit

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Answer:
    text: str
    used: list[Hit]


class Answerer(Protocol):
    name: str

    def answer(self, question: str, passages: list[Hit], vocabulary: list[tuple[str, str]]) -> Answer:
        """An answer grounded in the passages, and the passages it used."""
        ...


class ExtractiveAnswerer:
    name = "builtin.extractive"
    max_sentences = 2

    def answer(self, question: str, passages: list[Hit], vocabulary: list[tuple[str, str]]) -> Answer:
        asked = {w for w in words(normalize(question)) if w not in ENGLISH_STOP_WORDS and len(w) > 1}
        if not passages or not asked:
            return Answer("I could not find anything about that in this model's documents.", [])
        document_frequency: dict[str, int] = {}
        candidates: list[tuple[float, int, str, Hit]] = []
        for hit in passages:
            for sentence in _SENTENCE.split(hit.text):
                present = asked.intersection(words(normalize(sentence)))
                for word in present:
                    document_frequency[word] = document_frequency.get(word, 0) + 1
                candidates.append((0.0, len(candidates), sentence, hit))
        scored = []
        for _, order, sentence, hit in candidates:
            present = asked.intersection(words(normalize(sentence)))
            score = sum(1.0 / math.log(1 + document_frequency[w]) for w in present) if present else 0.0
            scored.append((score, order, sentence, hit))
        best = sorted((item for item in scored if item[0] > 0), key=lambda item: (-item[0], item[1]))
        chosen = sorted(best[: self.max_sentences], key=lambda item: item[1])
        if not chosen:
            return Answer("I could not find anything about that in this model's documents.", [])
        used: list[Hit] = []
        for item in chosen:
            if item[3] not in used:
                used.append(item[3])
        return Answer(" ".join(item[2].strip() for item in chosen), used)
