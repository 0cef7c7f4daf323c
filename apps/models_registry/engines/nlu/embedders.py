"""Sentence embedders for the NLU engine, behind one small Protocol.

- `minilm`: all-MiniLM-L6-v2, contextual (best paraphrase quality; about 15 ms a sentence on 2 cores).
- `minilm-static`: the same model's input token embeddings, SIF-weighted and with the common direction
  removed (microseconds a sentence; used for large models where encoding every example would be too slow).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from apps.models_registry.engines.nlu import minilm


class Embedder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        ...


class ContextualEmbedder:
    name = "minilm"

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        return minilm.load().encode(texts)


class StaticEmbedder:
    """Mean of token vectors weighted a/(a+p(token)), p estimated from token rank in the WordPiece vocabulary."""

    name = "minilm-static"

    def __init__(self) -> None:
        model = minilm.load()
        self.tokenizer = model.tokenizer
        table = model.weights["embeddings.word_embeddings.weight"]
        common = table[1000:].mean(0)
        table = table - common  # the direction every token shares says nothing about meaning
        self.table = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-9)
        # WordPiece ids roughly follow frequency after the reserved range: weight rare tokens higher.
        ranks = np.arange(table.shape[0], dtype=np.float32)
        self.weight = np.log1p(np.maximum(ranks - 1000, 1) / 50.0).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.table.shape[1]), np.float32)
        for index, text in enumerate(texts):
            ids = self.tokenizer.encode(text)[1:-1]
            if ids:
                weights = self.weight[ids]
                rows[index] = (self.table[ids] * weights[:, None]).sum(0)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


_embedders: dict[str, Embedder] = {}


def get(name: str) -> Embedder:
    """The embedder by name, built once per process."""
    if name not in _embedders:
        if name == ContextualEmbedder.name:
            _embedders[name] = ContextualEmbedder()
        elif name == StaticEmbedder.name:
            _embedders[name] = StaticEmbedder()
        else:
            raise KeyError(f"Unknown embedder {name!r}.")
    return _embedders[name]
