"""Architecture sizes of ImageBind: the official ``huge`` model and a ``tiny`` one for tests.

The field names follow the reference constructor (facebookresearch/ImageBind ``ImageBindModel.__init__``) so a
configuration reads the same in both. Drop-path rates are absent on purpose: the port only runs inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConfigName = Literal["huge", "tiny"]

TEXT_CONTEXT_LENGTH = 77
TEXT_VOCAB_SIZE = 49408
IMAGE_SIZE = 224
IMU_CHANNELS = 6
IMU_LENGTH = 2000
IMU_KERNEL = 8


@dataclass(frozen=True)
class ImageBindConfig:
    out_embed_dim: int
    vision_embed_dim: int
    vision_num_blocks: int
    vision_num_heads: int
    text_embed_dim: int
    text_num_blocks: int
    text_num_heads: int
    audio_embed_dim: int
    audio_num_blocks: int
    audio_num_heads: int
    depth_embed_dim: int
    depth_num_blocks: int
    depth_num_heads: int
    thermal_embed_dim: int
    thermal_num_blocks: int
    thermal_num_heads: int
    imu_embed_dim: int
    imu_num_blocks: int
    imu_num_heads: int
    video_frames: int = 2
    vision_kernel: tuple[int, int, int] = (2, 14, 14)
    audio_kernel: int = 16
    audio_stride: int = 10
    audio_num_mel_bins: int = 128
    audio_target_len: int = 204
    depth_kernel: int = 16
    thermal_kernel: int = 16


HUGE = ImageBindConfig(
    out_embed_dim=1024,
    vision_embed_dim=1280,
    vision_num_blocks=32,
    vision_num_heads=16,
    text_embed_dim=1024,
    text_num_blocks=24,
    text_num_heads=16,
    audio_embed_dim=768,
    audio_num_blocks=12,
    audio_num_heads=12,
    depth_embed_dim=384,
    depth_num_blocks=12,
    depth_num_heads=8,
    thermal_embed_dim=768,
    thermal_num_blocks=12,
    thermal_num_heads=12,
    imu_embed_dim=512,
    imu_num_blocks=6,
    imu_num_heads=8,
)

# Same architecture, every width 32 and 2 heads: 2 blocks for the modalities Bindesk uses, 1 for the others.
TINY = ImageBindConfig(
    out_embed_dim=16,
    vision_embed_dim=32,
    vision_num_blocks=2,
    vision_num_heads=2,
    text_embed_dim=32,
    text_num_blocks=2,
    text_num_heads=2,
    audio_embed_dim=32,
    audio_num_blocks=2,
    audio_num_heads=2,
    depth_embed_dim=32,
    depth_num_blocks=1,
    depth_num_heads=2,
    thermal_embed_dim=32,
    thermal_num_blocks=1,
    thermal_num_heads=2,
    imu_embed_dim=32,
    imu_num_blocks=1,
    imu_num_heads=2,
)

CONFIGS: dict[str, ImageBindConfig] = {"huge": HUGE, "tiny": TINY}


def config_by_name(name: str) -> ImageBindConfig:
    """The configuration called ``name`` (``"huge"`` or ``"tiny"``); ``ValueError`` for anything else."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown ImageBind configuration {name!r}; expected one of {sorted(CONFIGS)}") from None
