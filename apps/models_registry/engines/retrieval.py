"""Retrieval for llm models: documents cut into overlapping chunks, ranked with BM25 (offline, no embeddings).

The index is an `.npz` archive (a sparse term x chunk matrix, the chunks and their sources as JSON).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from apps.models_registry.engines.nlu.text import normalize

FORMAT = "retrieval-bm25/1"
CHUNK_WORDS = 120
OVERLAP_WORDS = 30
K1 = 1.5
B = 0.75
VOCABULARY_SOURCE = "vocabulary"
_WORD_PATTERN = r"(?u)\b\w\w+\b"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


@dataclass
class Document:
    id: str
    name: str
    text: str


@dataclass
class Hit:
    text: str
    source_id: str
    source_name: str
    score: float


def chunk(text: str, size: int = CHUNK_WORDS, overlap: int = OVERLAP_WORDS) -> list[str]:
    """Overlapping windows of about `size` words, cut at sentence ends where possible."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    chunks: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while len(words) > size:  # a sentence longer than a chunk is cut
            chunks.append(" ".join(current + words[: size - len(current)]))
            words = words[size - len(current) - overlap :]
            current = []
        if len(current) + len(words) > size and current:
            chunks.append(" ".join(current))
            current = current[-overlap:]
        current.extend(words)
    if current:
        chunks.append(" ".join(current))
    return chunks


def _analyzer() -> CountVectorizer:
    return CountVectorizer(token_pattern=_WORD_PATTERN, stop_words=list(ENGLISH_STOP_WORDS), preprocessor=normalize)


@dataclass
class Index:
    chunks: list[str]
    sources: list[tuple[str, str]]  # (id, name) per chunk
    terms: list[str]
    matrix: sparse.csc_matrix  # chunks x terms, BM25-weighted
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._term_index = {term: i for i, term in enumerate(self.terms)}
        self._analyze = _analyzer().build_analyzer()

    def search(self, query: str, k: int = 4) -> list[Hit]:
        """The `k` best chunks for the query (only chunks sharing a term with it)."""
        columns = sorted({self._term_index[t] for t in self._analyze(query) if t in self._term_index})
        if not columns or not self.chunks:
            return []
        scores = np.asarray(self.matrix[:, columns].sum(1)).ravel()
        order = np.argsort(-scores)[:k]
        return [
            Hit(self.chunks[i], self.sources[i][0], self.sources[i][1], round(float(scores[i]), 4))
            for i in order
            if scores[i] > 0
        ]

    def to_bytes(self) -> bytes:
        matrix = self.matrix.tocsc()
        meta = {
            "format": FORMAT,
            "chunks": self.chunks,
            "sources": self.sources,
            "terms": self.terms,
            "shape": list(matrix.shape),
            "metrics": self.metrics,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            data=matrix.data.astype(np.float32),
            indices=matrix.indices.astype(np.int32),
            indptr=matrix.indptr.astype(np.int64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Index:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"Unknown index format {meta.get('format')!r}.")
            matrix = sparse.csc_matrix(
                (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(meta["shape"])
            )
        return cls(
            chunks=meta["chunks"],
            sources=[tuple(source) for source in meta["sources"]],  # type: ignore[misc]
            terms=meta["terms"],
            matrix=matrix,
            metrics=meta["metrics"],
        )


def build(documents: list[Document], *, vocabulary: list[tuple[str, str]] = ()) -> Index:  # type: ignore[assignment]
    """Chunk the documents (and the vocabulary, one chunk per entry) and weight them with BM25."""
    chunks: list[str] = []
    sources: list[tuple[str, str]] = []
    for document in documents:
        for piece in chunk(document.text):
            chunks.append(piece)
            sources.append((document.id, document.name))
    for term, definition in vocabulary:
        chunks.append(f"{term.replace('|', ', ')}: {definition}".strip().rstrip(":"))
        sources.append((VOCABULARY_SOURCE, VOCABULARY_SOURCE))
    vectorizer = _analyzer()
    try:
        counts = vectorizer.fit_transform(chunks).tocsr().astype(np.float32)
        terms = list(vectorizer.get_feature_names_out())
    except ValueError:  # only stop words, or nothing at all
        counts, terms = sparse.csr_matrix((len(chunks), 0), dtype=np.float32), []
    lengths = np.asarray(counts.sum(1)).ravel()
    average = float(lengths.mean()) if len(lengths) else 1.0
    document_frequency = np.asarray((counts > 0).sum(0)).ravel()
    n = counts.shape[0]
    idf = np.log(1 + (n - document_frequency + 0.5) / (document_frequency + 0.5)).astype(np.float32)
    weighted = counts.copy()
    rows = np.repeat(np.arange(n), np.diff(weighted.indptr))
    tf = weighted.data
    weighted.data = (
        idf[weighted.indices] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[rows] / max(average, 1.0)))
    ).astype(np.float32)
    metrics = {"chunks": len(chunks), "terms": len(terms), "documents": len(documents), "vocabulary": len(vocabulary)}
    return Index(chunks, sources, terms, weighted.tocsc(), metrics)
