"""Image preprocessing of the reference ``load_and_transform_vision_data``, with Pillow and numpy.

Resize so the shorter side is 224 (bicubic; the longer side truncated to an integer as torchvision does), crop
the centre 224x224 (offsets rounded as torchvision's ``CenterCrop``), scale to [0, 1] and normalise with CLIP's
mean and std. torchvision resizes PIL images with Pillow itself, so the pixels match exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from embed.imagebind.config import IMAGE_SIZE

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def resize_shorter_side(image: Image.Image, size: int = IMAGE_SIZE) -> Image.Image:
    width, height = image.size
    if width <= height:
        new_width, new_height = size, int(size * height / width)
    else:
        new_width, new_height = int(size * width / height), size
    if (new_width, new_height) == (width, height):
        return image
    return image.resize((new_width, new_height), Image.Resampling.BICUBIC)


def center_crop(image: Image.Image, size: int = IMAGE_SIZE) -> Image.Image:
    width, height = image.size
    if width < size or height < size:  # only after a resize to another size; pad like torchvision would
        padded = Image.new(image.mode, (max(width, size), max(height, size)))
        padded.paste(image, ((max(width, size) - width) // 2, (max(height, size) - height) // 2))
        image, (width, height) = padded, padded.size
    top = round((height - size) / 2.0)
    left = round((width - size) / 2.0)
    return image.crop((left, top, left + size, top + size))


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """One image (any mode) -> (3, 224, 224) float32, normalised."""
    rgb = center_crop(resize_shorter_side(image.convert("RGB")))
    pixels = torch.from_numpy(np.asarray(rgb, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255.0)
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    return (pixels - mean) / std


def images_to_batch(images: Sequence[Image.Image]) -> torch.Tensor:
    """(len(images), 3, 224, 224) float32."""
    return torch.stack([image_to_tensor(image) for image in images])
