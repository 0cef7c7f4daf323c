"""Sentiment with VADER's lexicon (shipped in the vaderSentiment package): positive, negative or neutral."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_analyzer: Any = None


def analyse(text: str) -> tuple[str, float]:
    """(label, compound score in -1..1)."""
    global _analyzer
    with _lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _analyzer = SentimentIntensityAnalyzer()
    compound = float(_analyzer.polarity_scores(text)["compound"])
    if compound >= 0.05:
        return "positive", compound
    if compound <= -0.05:
        return "negative", compound
    return "neutral", compound
