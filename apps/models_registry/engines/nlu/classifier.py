"""The natural-bayes classifier: a sparse multinomial naive Bayes over hashed word and character n-grams,
fused with sentence-embedding similarity to the training examples.

Why both: naive Bayes on n-grams catches the model's own wording, spelling variants and typos, and stays small
(a sparse class x feature matrix, never dense); embedding similarity recognises paraphrases written with other
words and is what tells an out-of-scope sentence apart, since NB probabilities always sum to one over the
known intents. The artifact is an `.npz` archive (arrays + JSON metadata), never a pickle.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from apps.models_registry.engines.nlu import embedders
from apps.models_registry.engines.nlu.text import Synonyms, normalize

FORMAT = "natural-bayes/1"
HASH_BITS = 20
ALPHA = 0.1
CHAR_WEIGHT = 0.25
SIM_WEIGHT = 12.0
# Per embedder: the weight of naive Bayes beside similarity, the similarity at which the model is half sure a
# sentence is in scope, and how steeply that changes (tuned on tests/data/nlu_paraphrase.json).
TUNING = {"minilm": (0.2, 0.34, 14.0), "minilm-static": (1.0, 0.62, 14.0)}
# Up to EXACT_LIMIT examples a query is compared with all of them; above, with those of the candidate intents.
EXACT_LIMIT = 4096
CANDIDATES = 32

_word = HashingVectorizer(
    analyzer="word", ngram_range=(1, 2), n_features=2**HASH_BITS, alternate_sign=False, norm=None, binary=True,
    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a regular expression, not a secret
)  # fmt: skip
_char = HashingVectorizer(
    analyzer="char_wb", ngram_range=(2, 4), n_features=2**HASH_BITS, alternate_sign=False, norm=None, binary=True
)


def features(texts: list[str]) -> sparse.csr_matrix:
    """Hashed word 1-2-grams and (down-weighted) character 2-4-grams of normalised texts."""
    return sparse.hstack([_word.transform(texts), _char.transform(texts) * CHAR_WEIGHT], format="csr")


_word_ngrams = _word.build_analyzer()
_char_ngrams = _char.build_analyzer()


def _hashed(ngrams: list[str]) -> np.ndarray:
    """The distinct columns of n-grams, hashed as HashingVectorizer does (signed MurmurHash3, seed 0, |h| mod n)."""
    hashes = np.fromiter((murmurhash3_32(ngram, seed=0) for ngram in ngrams), dtype=np.int64, count=len(ngrams))
    return np.unique(np.abs(hashes) % (2**HASH_BITS))


def query_features(text: str) -> tuple[np.ndarray, np.ndarray]:
    """`features([text])` as (columns, values), without building sparse matrices: a query's hot path."""
    word, char = _hashed(_word_ngrams(text)), _hashed(_char_ngrams(text)) + 2**HASH_BITS
    values = np.concatenate([np.ones(len(word), np.float32), np.full(len(char), CHAR_WEIGHT, np.float32)])
    return np.concatenate([word, char]), values


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector without BLAS: OpenBLAS wakes its threads for each product, which on a busy machine
    costs milliseconds per query; for one query vector a single-threaded loop is faster and steadier."""
    return np.einsum("ij,j->i", matrix, vector)


@dataclass
class Prediction:
    intent: str | None
    score: float
    classifications: list[dict[str, float | str]] = field(default_factory=list)


@dataclass
class NluModel:
    """A trained model: intents, NB weights, example embeddings, synonyms, thresholds."""

    intents: list[str]
    embedder: str
    nb_weights: sparse.csr_matrix  # intents x features: log(1 + count / alpha)
    nb_norm: np.ndarray  # per intent: log((total + alpha * V) / alpha)
    nb_prior: np.ndarray
    examples: np.ndarray  # example embeddings (float16)
    example_intent: np.ndarray  # intent index of each example
    synonym_groups: list[list[str]]
    threshold: float
    steepness: float
    metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._synonyms = Synonyms(self.synonym_groups)
        # Laid out once per loaded artifact for fast queries: NB weights by feature, examples grouped by intent.
        weights_t = self.nb_weights.T.tocsr()
        self._wt_indptr = weights_t.indptr.astype(np.int64)
        self._wt_indices = weights_t.indices.astype(np.int64)
        self._wt_data = weights_t.data.astype(np.float32)
        self._known = np.asarray(self.nb_weights.getnnz(axis=0) > 0).ravel()
        order = np.argsort(self.example_intent, kind="stable")
        self._examples32 = np.ascontiguousarray(self.examples[order], dtype=np.float32)
        grouped = self.example_intent[order]
        count = len(self.intents)
        self._group_starts = np.searchsorted(grouped, np.arange(count))
        self._group_ends = np.searchsorted(grouped, np.arange(count), side="right")
        self._group_present = self._group_ends > self._group_starts
        # Per-intent centroids pick the candidates of a large model; only their examples are compared exactly.
        sums = np.add.reduceat(self._examples32, np.minimum(self._group_starts, max(len(grouped) - 1, 0)), axis=0)
        sums[~self._group_present] = 0.0
        self._centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)

    def prepare(self, text: str) -> str:
        return self._synonyms.apply(normalize(text))

    def _naive_bayes(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The unnormalised NB log-likelihood term of every intent: a gather over the query's few features."""
        starts, ends = self._wt_indptr[columns], self._wt_indptr[columns + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(len(self.intents), np.float32)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        scores = np.bincount(
            self._wt_indices[offsets],
            weights=self._wt_data[offsets] * np.repeat(values, lengths),
            minlength=len(self.intents),
        )
        return scores.astype(np.float32)

    def _similarities(self, query: np.ndarray, nb: np.ndarray) -> np.ndarray:
        """Per intent, the best cosine similarity of the query to its examples.

        Small models compare with every example. Large ones compare exactly only with the examples of the
        CANDIDATES intents nearest by centroid and the CANDIDATES best by naive Bayes; the others get their
        centroid similarity, which is below their examples' best and so cannot win.
        """
        if len(self._examples32) <= EXACT_LIMIT:
            sims = _dot(self._examples32, query)
            best = np.maximum.reduceat(sims, np.minimum(self._group_starts, len(sims) - 1)).astype(np.float32)
            best[~self._group_present] = -1.0
            return best
        best = _dot(self._centroids, query)
        best[~self._group_present] = -1.0
        k = min(CANDIDATES, len(best) - 1)
        candidates = np.union1d(np.argpartition(-best, k)[:k], np.argpartition(-nb, k)[:k])
        candidates = candidates[self._group_present[candidates]]
        starts, ends = self._group_starts[candidates], self._group_ends[candidates]
        lengths = ends - starts
        rows = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        sims = _dot(self._examples32[rows], query)
        best[candidates] = np.maximum.reduceat(sims, np.cumsum(lengths) - lengths)
        return best

    def predict(self, text: str, threshold: float = 0.5, limit: int | None = None) -> Prediction:
        """The best intent (None when out of scope), a calibrated 0..1 score, and the `limit` best intents' scores.

        `limit` None lists every intent (as NLP.js does); the "None" (out of scope) entry is always there.
        """
        prepared = self.prepare(text)
        if not prepared or not self.intents:
            return Prediction(None, 0.0, [{"intent": "None", "score": 1.0}])
        columns, values = query_features(prepared)
        keep = self._known[columns]  # features never seen in training say nothing
        columns, values = columns[keep], values[keep]
        mass = float(values.sum())
        nb = self._naive_bayes(columns, values) - mass * self.nb_norm + self.nb_prior
        nb = (nb - nb.max()) / max(mass, 1.0)
        query = embedders.get(self.embedder).encode([prepared])[0]
        best = self._similarities(query, nb)
        logits = TUNING[self.embedder][0] * nb * 10 + SIM_WEIGHT * best
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = int(probs.argmax())
        in_scope = 1.0 / (1.0 + math.exp(-self.steepness * (float(best[top]) - self.threshold)))
        score = float(in_scope * (0.5 + 0.5 * probs[top]))
        shown = len(probs) if limit is None else max(1, min(limit, len(probs)))
        order = np.argpartition(-probs, shown - 1)[:shown] if shown < len(probs) else np.arange(len(probs))
        order = order[np.argsort(-probs[order], kind="stable")]
        scaled = probs[order] * in_scope
        classifications: list[dict[str, float | str]] = [
            {"intent": self.intents[i], "score": round(float(value), 4)}
            for i, value in zip(order.tolist(), scaled.tolist(), strict=True)
        ]
        classifications.append({"intent": "None", "score": round(1.0 - in_scope, 4)})
        classifications.sort(key=lambda item: -float(item["score"]))
        intent = self.intents[top] if score >= threshold else None
        return Prediction(intent, round(score, 4), classifications)

    # --- storage --------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT,
            "intents": self.intents,
            "embedder": self.embedder,
            "synonym_groups": self.synonym_groups,
            "threshold": self.threshold,
            "steepness": self.steepness,
            "metrics": self.metrics,
            "shape": list(self.nb_weights.shape),
        }
        buffer = io.BytesIO()
        weights = self.nb_weights.tocsr()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            nb_data=weights.data.astype(np.float16),
            nb_indices=weights.indices.astype(np.int32),
            nb_indptr=weights.indptr.astype(np.int64),
            nb_norm=self.nb_norm,
            nb_prior=self.nb_prior,
            examples=self.examples,
            example_intent=self.example_intent,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> NluModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"Unknown artifact format {meta.get('format')!r}.")
            weights = sparse.csr_matrix(
                (arrays["nb_data"].astype(np.float32), arrays["nb_indices"], arrays["nb_indptr"]),
                shape=tuple(meta["shape"]),
            )
            return cls(
                intents=meta["intents"],
                embedder=meta["embedder"],
                nb_weights=weights,
                nb_norm=arrays["nb_norm"],
                nb_prior=arrays["nb_prior"],
                examples=arrays["examples"],
                example_intent=arrays["example_intent"],
                synonym_groups=meta["synonym_groups"],
                threshold=meta["threshold"],
                steepness=meta["steepness"],
                metrics=meta["metrics"],
            )


def train(
    examples: list[tuple[str, str]],
    *,
    synonym_terms: list[str] = (),  # type: ignore[assignment]
    contextual_max_examples: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> NluModel:
    """Train on (intent, utterance) pairs; the contextual encoder is used up to `contextual_max_examples`."""
    synonyms = Synonyms.from_terms(list(synonym_terms))
    intents = sorted({intent for intent, _ in examples})
    if not intents:
        raise ValueError("There are no training examples: add utterances to the model's input or its intents.")
    index = {intent: i for i, intent in enumerate(intents)}
    seen: set[tuple[str, str]] = set()
    texts: list[str] = []
    labels: list[int] = []
    for intent, utterance in examples:
        prepared = synonyms.apply(normalize(utterance))
        if prepared and (intent, prepared) not in seen:
            seen.add((intent, prepared))
            texts.append(prepared)
            labels.append(index[intent])
    if progress:
        progress(10)
    x = features(texts)
    y = sparse.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(len(intents), len(texts)))
    counts = (y @ x).tocsr()  # intents x features, sparse
    vocabulary_size = max(int((counts.sum(0) > 0).sum()), 1)
    totals = np.asarray(counts.sum(1)).ravel()
    weights = counts.copy()
    weights.data = np.log1p(weights.data / ALPHA).astype(np.float32)
    norm = np.log((totals + ALPHA * vocabulary_size) / ALPHA).astype(np.float32)
    class_sizes = np.bincount(labels, minlength=len(intents)).astype(np.float32)
    prior = np.log(class_sizes / class_sizes.sum()).astype(np.float32)
    if progress:
        progress(40)
    embedder_name = "minilm" if len(texts) <= contextual_max_examples else "minilm-static"
    vectors = embedders.get(embedder_name).encode(texts)
    if progress:
        progress(90)
    _, threshold, steepness = TUNING[embedder_name]
    return NluModel(
        intents=intents,
        embedder=embedder_name,
        nb_weights=weights.astype(np.float32),
        nb_norm=norm,
        nb_prior=prior,
        examples=vectors.astype(np.float16),
        example_intent=np.asarray(labels, np.int32),
        synonym_groups=synonyms.groups,
        threshold=threshold,
        steepness=steepness,
        metrics={"examples": len(texts), "intents": len(intents), "features": int(weights.nnz)},
    )
