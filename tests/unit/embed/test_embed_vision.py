"""EfficientNet-Lite0 image-to-image vectors and ImageNet tags."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.errors import InvalidMedia
from embed.vision import BASELINE_RECIPE, EfficientNetVisualEncoder, imagenet_labels
from tests.unit.embed.contract import shapes_photo, text_photo
from tests.unit.embed.drawings import crossword_grid, traffic_light

pytestmark = pytest.mark.slow


def _jpeg_round_trip(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    buffer = io.BytesIO()
    image.resize(size).save(buffer, format="JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_labels_are_the_thousand_imagenet_classes() -> None:
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert labels[0] == "tench" and labels[948] == "Granny Smith" and labels[999] == "toilet tissue"


def test_features_are_unit_rows_of_the_recipe_width(visual_encoder: EfficientNetVisualEncoder) -> None:
    images = [shapes_photo(0), shapes_photo(1, size=300), text_photo("router reset")]
    vectors = visual_encoder.features(images)
    assert vectors.shape == (3, visual_encoder.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert visual_encoder.features([]).shape == (0, visual_encoder.dim)


def test_features_batch_equals_single_and_is_deterministic(visual_encoder: EfficientNetVisualEncoder) -> None:
    images = [shapes_photo(2), crossword_grid(), traffic_light()]
    batch = visual_encoder.features(images)
    assert np.allclose(batch, visual_encoder.features(images), atol=1e-6)
    for row, image in enumerate(images):
        assert np.allclose(batch[row], visual_encoder.features([image])[0], atol=1e-4)


def test_a_recompressed_resized_copy_is_the_nearest_image(visual_encoder: EfficientNetVisualEncoder) -> None:
    originals = [crossword_grid(), traffic_light(), shapes_photo(3), shapes_photo(4), text_photo("wall mount")]
    copies = [_jpeg_round_trip(image, (200, 200)) for image in originals]
    similarity = visual_encoder.features(copies) @ visual_encoder.features(originals).T
    assert (similarity.argmax(axis=1) == np.arange(len(originals))).all(), similarity.round(3)


def test_tags_name_what_is_drawn(visual_encoder: EfficientNetVisualEncoder) -> None:
    grid_tags, light_tags = visual_encoder.tags([crossword_grid(), traffic_light()], k=5)
    assert grid_tags[0] == "crossword puzzle"
    assert "traffic light" in light_tags


def test_tags_respect_k_and_the_probability_floor(visual_encoder: EfficientNetVisualEncoder) -> None:
    images = [shapes_photo(5), traffic_light(), crossword_grid()]
    probabilities = visual_encoder.class_probabilities(images)
    assert probabilities.shape == (3, 1000) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    labels = imagenet_labels()
    for k in (1, 3):
        for row, tags in enumerate(visual_encoder.tags(images, k=k)):
            assert len(tags) <= k
            for tag in tags:
                assert probabilities[row, labels.index(tag)] >= visual_encoder._tag_min_probability


def test_the_tuned_recipe_differs_from_the_plain_one(visual_encoder: EfficientNetVisualEncoder) -> None:
    plain = EfficientNetVisualEncoder(recipe=BASELINE_RECIPE)
    plain._model = visual_encoder._loaded  # same weights, no second load
    image = [traffic_light()]
    tuned_vector, plain_vector = visual_encoder.features(image)[0], plain.features(image)[0]
    assert plain_vector.shape == tuned_vector.shape
    assert 0.5 < float(tuned_vector @ plain_vector) < 0.9999


def test_non_rgb_images_are_refused(visual_encoder: EfficientNetVisualEncoder) -> None:
    with pytest.raises(InvalidMedia):
        visual_encoder.features([Image.new("L", (64, 64))])


def test_one_pass_gives_the_same_features_and_tags(visual_encoder: EfficientNetVisualEncoder) -> None:
    images = [traffic_light(), crossword_grid(), shapes_photo(6)]
    vectors, tags = visual_encoder.features_and_tags(images, k=3)
    assert np.allclose(vectors, visual_encoder.features(images), atol=1e-6)
    assert tags == visual_encoder.tags(images, k=3)
