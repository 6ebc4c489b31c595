"""Each embedder backend has its own collection: what ImageBind indexes lands in ``bindesk_chunks_imagebind`` with
its own width, and a deployment switched to another backend is told its documents are missing there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.db import session_scope
from kb.documents import Upload, accept_uploads
from kb.indexing import index_document
from kb.runtime import Runtime, workspaces_missing_vectors
from tests.conftest import MakeSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imagebind"
MANUAL = "# Aurora kettle\n\n## Descaling\n\nTo descale the kettle, boil water with one descaling tablet, then rinse.\n"


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "imagebind_tiny.pth"
    with np.load(FIXTURES / "tiny_state_dict.npz") as data:
        torch.save({name: torch.from_numpy(data[name]) for name in data.files}, path)
    return path


def test_imagebind_chunks_live_in_their_own_collection(
    make_settings: MakeSettings, workspace: str, tiny_checkpoint: Path
) -> None:
    settings = make_settings(
        embedder="imagebind",
        imagebind_checkpoint=tiny_checkpoint,
        imagebind_config="tiny",
        imagebind_device="cpu",
        imagebind_dtype="float32",
    )
    runtime = Runtime(settings)
    with session_scope(settings) as session:
        accepted = accept_uploads(
            session, runtime.blobs, workspace, [Upload("manual.md", MANUAL.encode())], max_bytes=10_000_000
        )
    outcome = index_document(runtime, accepted.to_index[0])

    assert outcome.status == "indexed" and outcome.chunks > 0
    store = runtime.store
    assert (store.collection, store.dense_dim, store.visual_dim) == ("bindesk_chunks_imagebind", 16, 16)
    assert store.count(workspace) == outcome.chunks
    assert workspaces_missing_vectors(runtime) == []

    # The same deployment switched back to the local embedder: its collection has none of these documents.
    local = Runtime(settings.model_copy(update={"embedder": "local"}))
    assert local.store.collection == "bindesk_chunks_local"
    assert workspaces_missing_vectors(local) == [workspace]
