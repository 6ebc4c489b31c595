"""The ``imagebind`` Embedder on the tiny reference checkpoint: outputs, errors, licence notice."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from core.errors import CheckpointMismatch, InvalidInput, ModelUnavailable
from core.media import AudioClip
from core.settings import Settings
from embed.imagebind.backend import ImageBindEmbedder, resolve_device
from embed.protocol import Embedder

TOLERANCE = 1e-4  # on unit vectors; achieved ~1e-7


def _settings(tmp_path: Path, checkpoint: Path | None, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        imagebind_checkpoint=checkpoint,
        imagebind_config="tiny",
        imagebind_device="cpu",
        **overrides,  # type: ignore[arg-type]
    )


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> ImageBindEmbedder:
    settings = _settings(tmp_path_factory.mktemp("data"), tiny_checkpoint, embed_batch_size=3)
    backend = ImageBindEmbedder(settings)
    backend.warm_up()
    return backend


def test_is_an_embedder_with_the_tiny_dims(embedder: ImageBindEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dense_dim, embedder.visual_dim, embedder.max_text_tokens) == (
        "imagebind",
        16,
        16,
        77,
    )


def test_texts_match_the_reference(
    embedder: ImageBindEmbedder, texts: list[str], reference: dict[str, np.ndarray]
) -> None:
    vectors = embedder.embed_texts(texts)  # 10 texts in batches of 3

    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors, _unit(reference["text_embeddings"]), atol=TOLERANCE)


def test_images_match_the_reference_and_visual_is_dense(
    embedder: ImageBindEmbedder, fixtures_dir: Path, reference: dict[str, np.ndarray]
) -> None:
    images = [Image.open(fixtures_dir / n).convert("RGB") for n in ("image_landscape.png", "image_portrait.png")]
    out = embedder.embed_images(images, ["E42 reset", ""])

    np.testing.assert_allclose(out.dense, _unit(reference["vision_embeddings"]), atol=TOLERANCE)
    np.testing.assert_array_equal(out.visual, out.dense)
    assert out.tags == [[], []]


def test_audio_matches_the_reference(
    embedder: ImageBindEmbedder, fixtures_dir: Path, reference: dict[str, np.ndarray]
) -> None:
    stereo, rate = sf.read(fixtures_dir / "audio_stereo_44k1.wav", dtype="float32", always_2d=True)
    mono, mono_rate = sf.read(fixtures_dir / "audio_mono_16k.wav", dtype="float32")
    clips = [AudioClip(samples=stereo, sample_rate=rate), AudioClip(samples=mono, sample_rate=mono_rate)]
    vectors = embedder.embed_audio(clips, ["", ""])

    np.testing.assert_allclose(vectors, _unit(reference["audio_embeddings"]), atol=TOLERANCE)


def test_empty_batches_and_token_counts(embedder: ImageBindEmbedder) -> None:
    assert embedder.embed_texts([]).shape == (0, 16)
    assert embedder.embed_audio([], []).shape == (0, 16)
    assert embedder.count_tokens("a photo of a dog") == 7


def test_mismatched_side_inputs_are_refused(embedder: ImageBindEmbedder) -> None:
    with pytest.raises(InvalidInput, match="OCR"):
        embedder.embed_images([Image.new("RGB", (8, 8))], [])
    with pytest.raises(InvalidInput, match="no samples"):
        embedder.embed_audio([AudioClip(samples=np.zeros(0, dtype=np.float32), sample_rate=16_000)], [""])


def test_missing_checkpoint_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not found") as info:
        ImageBindEmbedder(_settings(tmp_path, tmp_path / "absent.pth")).warm_up()
    assert not isinstance(info.value, CheckpointMismatch)
    with pytest.raises(ModelUnavailable, match="BINDESK_IMAGEBIND_CHECKPOINT"):
        ImageBindEmbedder(_settings(tmp_path, None)).embed_texts(["hello"])


def test_checkpoint_with_other_keys_is_a_mismatch(tmp_path: Path, tiny_state: dict[str, torch.Tensor]) -> None:
    state = dict(tiny_state)
    del state["modality_heads.vision.2.weight"]
    state["modality_heads.vision.3.weight"] = torch.zeros(16, 32)
    state["modality_trunks.text.blocks.0.mlp.fc1.bias"] = torch.zeros(7)
    path = tmp_path / "other.pth"
    torch.save({"model": state}, path)  # wrapped, as some training scripts save

    with pytest.raises(CheckpointMismatch) as info:
        ImageBindEmbedder(_settings(tmp_path, path)).warm_up()
    message = str(info.value)
    assert "missing: modality_heads.vision.2.weight" in message
    assert "unexpected: modality_heads.vision.3.weight" in message
    assert "modality_trunks.text.blocks.0.mlp.fc1.bias (7,)" in message


def test_huge_checkpoint_for_tiny_config_names_the_shapes(tmp_path: Path, tiny_state: dict[str, torch.Tensor]) -> None:
    state = {k: torch.zeros(*v.shape[:-1], v.shape[-1] * 2) if v.ndim else v for k, v in tiny_state.items()}
    path = tmp_path / "wider.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatch, match=r"wrong shape: .* and \d+ more"):
        ImageBindEmbedder(_settings(tmp_path, path)).warm_up()


def test_a_file_that_is_no_checkpoint_is_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "notes.pth"
    path.write_bytes(b"these are not weights")
    with pytest.raises(CheckpointMismatch, match="not a readable PyTorch checkpoint"):
        ImageBindEmbedder(_settings(tmp_path, path)).warm_up()


def test_warm_up_logs_the_weights_licence(
    tmp_path: Path, tiny_checkpoint: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="embed.imagebind"):
        ImageBindEmbedder(_settings(tmp_path, tiny_checkpoint)).warm_up()
    assert "CC-BY-NC 4.0" in caplog.text


def test_cpu_runs_in_float32_whatever_dtype_was_asked() -> None:
    assert resolve_device("cpu", "bfloat16") == (torch.device("cpu"), torch.float32)
    if not torch.cuda.is_available():
        assert resolve_device("cuda", "bfloat16") == (torch.device("cpu"), torch.float32)
    with pytest.raises(ModelUnavailable, match="not a torch device"):
        resolve_device("gpu-please", "bfloat16")
