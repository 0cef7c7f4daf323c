"""The NLU engine itself: paraphrase accuracy and out-of-scope rejection on a hard set, storage, synonyms, size."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from apps.models_registry.engines.nlu import classifier
from apps.models_registry.engines.nlu.entities import builtin_entities

DATA = json.loads((Path(__file__).resolve().parents[3] / "tests" / "data" / "nlu_paraphrase.json").read_text())
EXAMPLES = [(intent, u) for intent, utterances in DATA["train"].items() for u in utterances]


@pytest.fixture(scope="module")
def trained():
    return classifier.NluModel.from_bytes(classifier.train(EXAMPLES).to_bytes())


def test_unseen_paraphrases_and_out_of_scope(trained):
    tests = [(intent, u) for intent, utterances in DATA["test"].items() for u in utterances]
    assert len(tests) == 60 and not {u for _, u in tests} & {u for _, u in EXAMPLES}
    accuracy = sum(trained.predict(u).intent == intent for intent, u in tests) / len(tests)
    rejected = sum(trained.predict(u).intent is None for u in DATA["out_of_scope"]) / len(DATA["out_of_scope"])
    assert accuracy >= 0.8, accuracy
    assert rejected >= 0.8, rejected


def test_synonyms_from_vocabulary():
    examples = [
        ("cash", "I want a refund"),
        ("cash", "give my refund"),
        ("ship", "where is the parcel"),
        ("ship", "parcel status"),
    ]
    plain = classifier.train(examples, contextual_max_examples=0)
    with_synonyms = classifier.train(examples, synonym_terms=["refund|zorblax"], contextual_max_examples=0)
    assert with_synonyms.prepare("Zorblax now") == "refund now"
    assert with_synonyms.predict("zorblax zorblax", threshold=0).intent == "cash"
    assert plain.prepare("Zorblax now") == "zorblax now"


def test_model_is_sparse_and_round_trips():
    examples = [(f"intent{i}", f"utterance number {i} about topic {i * 7}") for i in range(300)]
    model = classifier.train(examples, contextual_max_examples=0)
    blob = model.to_bytes()
    assert len(blob) < 2_000_000
    loaded = classifier.NluModel.from_bytes(blob)
    assert loaded.intents == model.intents and loaded.embedder == "minilm-static"
    assert loaded.predict("utterance number 42 about topic 294", threshold=0).intent == "intent42"
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps({"format": "natural-bayes/9"}).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="Unknown artifact format"):
        classifier.NluModel.from_bytes(buffer.getvalue())


def test_nothing_to_train():
    with pytest.raises(ValueError):
        classifier.train([])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to Ann@Example.org", [("email", "ann@example.org")]),
        ("see www.example.com/x.", [("url", "www.example.com/x")]),
        ("call (020) 555-1234 now", [("phone", "0205551234")]),
        ("on 2027-02-30 or 31/12/2026", [("date", "2026-12-31")]),
        ("March 3rd 2027 and tomorrow", [("date", "2027-03-03"), ("date", "2026-11-24")]),
        ("I need 2.5 kg and twelve eggs", [("number", 2.5), ("number", 12)]),
        ("nothing here", []),
    ],
)
def test_builtin_entities(text, expected):
    found = [(e.entity, e.value) for e in builtin_entities(text, date(2026, 11, 23))]
    assert found == expected


def test_large_models_compare_only_candidate_intents_and_agree_with_the_exact_search(monkeypatch):
    import random

    rng = random.Random(3)  # noqa: S311 - made-up words, not secrets
    words = [f"{a}{b}{c}{d}" for a in "bcdfgklmnprst" for b in "aeiou" for c in "bdgklmnprst" for d in "aeiou"]
    rng.shuffle(words)
    examples = []
    for i in range(300):  # 300 intents x 20 = 6,000 examples: above EXACT_LIMIT
        own = [words[i], *rng.sample(words[300:420], 5)]  # one word of its own, the others shared with others
        for j in range(20):
            examples.append((f"intent{i}", " ".join(rng.sample(own, 3)) + f" {rng.choice(words[1200:1300])} {j}"))
    model = classifier.NluModel.from_bytes(classifier.train(examples, contextual_max_examples=0).to_bytes())
    assert len(model._examples32) > classifier.EXACT_LIMIT
    sample = rng.sample(examples, 200)
    queries = [text.rsplit(" ", 1)[0] for _, text in sample]
    approximate = [model.predict(q, threshold=0) for q in queries]
    monkeypatch.setattr(classifier, "EXACT_LIMIT", 10**9)
    exact = [model.predict(q, threshold=0) for q in queries]
    agree = sum(a.intent == e.intent for a, e in zip(approximate, exact, strict=True)) / len(queries)
    assert agree >= 0.97, agree
    right = sum(a.intent == intent for a, (intent, _) in zip(approximate, sample, strict=True)) / len(sample)
    assert right >= 0.9, right
    assert all(abs(a.score - e.score) < 0.05 for a, e in zip(approximate, exact, strict=True) if a.intent == e.intent)


def test_classifications_are_limited_to_the_best(trained):
    every = trained.predict("will it rain tomorrow")
    assert len(every.classifications) == len(DATA["train"]) + 1
    top = trained.predict("will it rain tomorrow", limit=3)
    assert [c["intent"] for c in top.classifications if c["intent"] != "None"] == [
        c["intent"] for c in every.classifications if c["intent"] != "None"
    ][:3]
    assert len(top.classifications) == 4
    assert (top.intent, top.score) == (every.intent, every.score)


def test_query_features_are_the_training_features():
    texts = [u for _, u in EXAMPLES[:40]] + ["", "a", "héllo wörld ünïcode", "x" * 300, "refund refund refund 42"]
    for text in texts:
        matrix = classifier.features([text])
        columns, values = classifier.query_features(text)
        order = np.argsort(columns)
        assert columns[order].tolist() == sorted(matrix.indices.tolist()), text
        expected = dict(zip(matrix.indices.tolist(), matrix.data.tolist(), strict=True))
        assert [expected[c] for c in columns[order].tolist()] == pytest.approx(values[order].tolist()), text
