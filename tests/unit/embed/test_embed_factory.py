"""get_embedder: the configured backend, one per process per settings, nothing loaded on construction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from embed.factory import clear_embedder_cache, get_embedder
from embed.local import LocalEmbedder

REPO = Path(__file__).resolve().parents[3]


def test_local_is_built_once_per_settings(tmp_path: Path) -> None:
    clear_embedder_cache()
    settings = Settings(data_dir=tmp_path, embedder="local")
    first = get_embedder(settings)
    assert isinstance(first, LocalEmbedder)
    assert get_embedder(Settings(data_dir=tmp_path, embedder="local")) is first
    assert get_embedder(Settings(data_dir=tmp_path / "elsewhere", embedder="local")) is first  # same models
    assert get_embedder(Settings(data_dir=tmp_path, embedder="local", embed_batch_size=8)) is not first
    clear_embedder_cache()


def test_imagebind_is_imported_only_when_asked_for(tmp_path: Path) -> None:
    clear_embedder_cache()
    embedder = get_embedder(Settings(data_dir=tmp_path, embedder="imagebind"))
    assert embedder.name == "imagebind"
    clear_embedder_cache()


def test_import_and_construction_load_no_model(tmp_path: Path) -> None:
    """Importing the embed modules and building an embedder must not import the model libraries or read weights."""
    script = f"""
import sys
from core.settings import Settings
from embed.factory import get_embedder
import embed.local, embed.text, embed.vision
embedder = get_embedder(Settings(data_dir={str(tmp_path)!r}, embedder="local"))
heavy = [m for m in ("sentence_transformers", "transformers", "efficientnet_lite_pytorch", "torch") if m in sys.modules]
assert not heavy, heavy
assert embedder.text_encoder._model is None and embedder.visual_encoder._model is None
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
