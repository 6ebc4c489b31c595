"""Fixtures for the ImageBind port: reference data made by scripts/imagebind_reference/make_fixtures.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from embed.imagebind.config import TINY
from embed.imagebind.model import ImageBindModel, build_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imagebind"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def reference() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "reference.npz") as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="session")
def texts() -> list[str]:
    loaded: list[str] = json.loads((FIXTURES / "texts.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session")
def tiny_state() -> dict[str, torch.Tensor]:
    """The reference tiny model's weights, float32, as the reference's state_dict() named them."""
    with np.load(FIXTURES / "tiny_state_dict.npz") as data:
        return {name: torch.from_numpy(data[name]) for name in data.files}


@pytest.fixture(scope="session")
def tiny_model(tiny_state: dict[str, torch.Tensor]) -> ImageBindModel:
    model = build_model(TINY)
    model.load_state_dict(tiny_state, strict=True)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_state: dict[str, torch.Tensor]) -> Path:
    """The tiny reference weights saved as a user would supply a checkpoint (``torch.save`` of a state dict)."""
    path = tmp_path_factory.mktemp("imagebind") / "imagebind_tiny.pth"
    torch.save(tiny_state, path)
    return path
