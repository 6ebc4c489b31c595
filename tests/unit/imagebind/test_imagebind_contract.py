"""The ``imagebind`` backend keeps the same Embedder contract as ``local`` (tests/unit/embed/contract.py).

Run on the tiny reference checkpoint (random weights, CPU, float32): every structural check applies (dims, unit
float32 rows, determinism, batch equals one-by-one, empty batches, token counts); the semantic check (a photo of
words lands nearer their text) needs trained weights, so it is left to a deployment's real checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from embed.factory import get_embedder
from embed.imagebind.backend import ImageBindEmbedder
from tests.unit.embed.contract import check_embedder_contract, text_photo, tone_clip


@pytest.fixture(scope="module")
def tiny_embedder(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> ImageBindEmbedder:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        embedder="imagebind",
        imagebind_checkpoint=tiny_checkpoint,
        imagebind_config="tiny",
        imagebind_device="cpu",
        imagebind_dtype="float32",
        embed_batch_size=2,  # smaller than the contract's batches, so batching itself is exercised
    )
    embedder = get_embedder(settings)  # through the factory, as a deployment gets it
    assert isinstance(embedder, ImageBindEmbedder)
    embedder.warm_up()
    return embedder


def test_tiny_imagebind_keeps_the_embedder_contract(tiny_embedder: ImageBindEmbedder) -> None:
    check_embedder_contract(tiny_embedder, audio_carries_words=False, trained=False)


def test_every_modality_lands_in_one_space_of_the_configured_width(tiny_embedder: ImageBindEmbedder) -> None:
    text = tiny_embedder.embed_texts(["replace the remote battery"])
    photo = tiny_embedder.embed_images([text_photo("remote battery")], [""])
    voice = tiny_embedder.embed_audio([tone_clip()], [""])

    assert tiny_embedder.dense_dim == tiny_embedder.visual_dim == 16  # the tiny config's out_embed_dim
    assert text.shape == photo.dense.shape == photo.visual.shape == voice.shape == (1, 16)
    np.testing.assert_array_equal(photo.visual, photo.dense)  # images are embedded natively: one vector
