"""Reading an ImageBind checkpoint into the port, with errors a person can act on.

The official ``imagebind_huge.pth`` is a plain state dict (1,311 float32 tensors, 4.5 GB). It is memory-mapped
and assigned into a model built on ``meta``, so loading never holds two copies of the weights; then the model is
cut down to the modalities Bindesk uses and moved to the device and dtype asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import Tensor

from core.errors import CheckpointMismatch, ModelUnavailable
from embed.imagebind.config import ImageBindConfig
from embed.imagebind.model import ImageBindModel, build_model

logger = logging.getLogger(__name__)

_WRAPPER_KEYS = ("model", "state_dict", "module")
_LISTED = 5  # how many offending keys a mismatch message names


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """The tensors stored at ``path`` (a ``torch.save`` file), unwrapped from ``{"model": ...}``-style dicts.

    Raises :class:`ModelUnavailable` when there is no file and :class:`CheckpointMismatch` when the file is not
    a readable state dict.
    """
    if not path.is_file():
        raise ModelUnavailable(
            f"ImageBind checkpoint not found at {path}: download imagebind_huge.pth (CC-BY-NC 4.0) yourself and "
            "point BINDESK_IMAGEBIND_CHECKPOINT at it"
        )
    try:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # files written in torch's legacy (non-zip) format cannot be memory-mapped
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the file can be anything; say what it was not
        raise CheckpointMismatch(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    while isinstance(loaded, Mapping) and not _all_tensors(loaded):
        inner = next((loaded[k] for k in _WRAPPER_KEYS if isinstance(loaded.get(k), Mapping)), None)
        if inner is None:
            break
        loaded = inner
    if not isinstance(loaded, Mapping) or not _all_tensors(loaded):
        raise CheckpointMismatch(f"{path} does not hold a state dict of tensors")
    return dict(loaded)


def _all_tensors(mapping: Mapping[object, object]) -> bool:
    return bool(mapping) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in mapping.items())


def check_state_dict(model: ImageBindModel, state: Mapping[str, Tensor], source: str) -> None:
    """Raise :class:`CheckpointMismatch` naming a few missing, unexpected and wrongly shaped entries."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if not (missing or unexpected or reshaped):
        return
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", reshaped)):
        if items:
            more = f" and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:_LISTED])}{more}")
    raise CheckpointMismatch(
        f"{source} does not match the ImageBind {model.config_name!r} architecture: " + "; ".join(parts)
    )


def load_model(
    path: Path,
    config: ImageBindConfig,
    *,
    device: torch.device,
    dtype: torch.dtype,
    modalities: Iterable[str] | None = None,
) -> ImageBindModel:
    """The model with the checkpoint's weights (strictly: every key, every shape), in eval mode on ``device``.

    ``modalities``: keep only these encoders after the strict load (all six when None).
    """
    state = read_state_dict(path)
    model = build_model(config, device="meta")
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=True, assign=True)
    if modalities is not None:
        model.keep_only(modalities)
    return model.to(device=device, dtype=dtype).eval()
