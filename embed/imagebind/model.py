"""ImageBind in plain PyTorch: six modality encoders that end in one shared embedding space.

Each modality runs preprocessor -> trunk -> head -> postprocessor, held in four ``ModuleDict``\\ s named as in
the reference (``modality_preprocessors``, ``modality_trunks``, ``modality_heads``, ``modality_postprocessors``)
so the official ``imagebind_huge.pth`` state dict loads with ``strict=True``. Thermal, depth and IMU are built
so that load is strict; Bindesk embeds text, images and audio, and :meth:`ImageBindModel.keep_only` can drop
the rest after loading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from embed.imagebind.config import (
    CONFIGS,
    IMAGE_SIZE,
    IMU_CHANNELS,
    IMU_KERNEL,
    IMU_LENGTH,
    TEXT_CONTEXT_LENGTH,
    TEXT_VOCAB_SIZE,
    ImageBindConfig,
)
from embed.imagebind.layers import BLOCK_NORM_EPS, Trunk
from embed.imagebind.preprocessors import (
    ImuPreprocessor,
    PatchPreprocessor,
    PatchStem,
    RepeatToFrames,
    TextPreprocessor,
)

VISION: Final = "vision"
TEXT: Final = "text"
AUDIO: Final = "audio"
DEPTH: Final = "depth"
THERMAL: Final = "thermal"
IMU: Final = "imu"
MODALITIES: Final = (VISION, TEXT, AUDIO, DEPTH, THERMAL, IMU)


class SelectToken(nn.Module):
    """(B, L, D) -> (B, D): the token at ``index`` (the class token)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: Tensor) -> Tensor:
        return x[:, self.index, ...]


class TextHead(nn.Module):
    """Reads the end-of-text token's features (its position is the argmax of the token ids) and projects them."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(dim, eps=BLOCK_NORM_EPS), nn.Linear(dim, out_dim, bias=False))

    def forward(self, x: Tensor, eot_index: Tensor) -> Tensor:
        return self.proj(x[torch.arange(x.shape[0], device=x.device), eot_index])


class L2Normalize(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=-1, p=2)


class LogitScale(nn.Module):
    """Multiplies by ``exp(log_logit_scale)`` capped at 100; a parameter for text, a fixed buffer elsewhere."""

    def __init__(self, scale: float, *, learnable: bool) -> None:
        super().__init__()
        value = torch.ones([]) * math.log(scale)
        if learnable:
            self.log_logit_scale = nn.Parameter(value)
        else:
            self.register_buffer("log_logit_scale", value)

    def forward(self, x: Tensor) -> Tensor:
        return torch.clip(self.log_logit_scale.exp(), max=100) * x


def _conv_patches(size: tuple[int, ...], kernel: int, stride: int) -> int:
    return math.prod((s - kernel) // stride + 1 for s in size)


def _build_preprocessors(c: ImageBindConfig) -> nn.ModuleDict:
    t_kernel, h_kernel, w_kernel = c.vision_kernel
    vision_stem = PatchStem(
        nn.Sequential(
            RepeatToFrames(frames=2),
            nn.Conv3d(3, c.vision_embed_dim, kernel_size=c.vision_kernel, stride=c.vision_kernel, bias=False),
        ),
        norm_dim=None,
    )
    vision_patches = (c.video_frames // t_kernel) * (IMAGE_SIZE // h_kernel) * (IMAGE_SIZE // w_kernel)

    def single_channel_stem(dim: int, kernel: int, stride: int) -> PatchStem:
        return PatchStem(nn.Conv2d(1, dim, kernel_size=kernel, stride=stride, bias=False), norm_dim=dim)

    audio_patches = _conv_patches((c.audio_num_mel_bins, c.audio_target_len), c.audio_kernel, c.audio_stride)
    depth_patches = _conv_patches((IMAGE_SIZE, IMAGE_SIZE), c.depth_kernel, c.depth_kernel)
    thermal_patches = _conv_patches((IMAGE_SIZE, IMAGE_SIZE), c.thermal_kernel, c.thermal_kernel)
    return nn.ModuleDict(
        {
            VISION: PatchPreprocessor("rgbt_stem", vision_stem, vision_patches, c.vision_embed_dim),
            TEXT: TextPreprocessor(TEXT_VOCAB_SIZE, TEXT_CONTEXT_LENGTH, c.text_embed_dim),
            AUDIO: PatchPreprocessor(
                "rgbt_stem",
                single_channel_stem(c.audio_embed_dim, c.audio_kernel, c.audio_stride),
                audio_patches,
                c.audio_embed_dim,
            ),
            DEPTH: PatchPreprocessor(
                "depth_stem",
                single_channel_stem(c.depth_embed_dim, c.depth_kernel, c.depth_kernel),
                depth_patches,
                c.depth_embed_dim,
            ),
            THERMAL: PatchPreprocessor(
                "rgbt_stem",
                single_channel_stem(c.thermal_embed_dim, c.thermal_kernel, c.thermal_kernel),
                thermal_patches,
                c.thermal_embed_dim,
            ),
            IMU: ImuPreprocessor(IMU_CHANNELS, IMU_LENGTH, IMU_KERNEL, c.imu_embed_dim),
        }
    )


def _build_trunks(c: ImageBindConfig) -> nn.ModuleDict:
    # Only vision has a LayerNorm before its blocks; text attends causally; the trunks trained from scratch
    # (audio, depth, thermal, IMU) carry a learned extra key/value token.
    return nn.ModuleDict(
        {
            VISION: Trunk(
                c.vision_embed_dim, c.vision_num_blocks, c.vision_num_heads, pre_norm=True, learned_kv_token=False
            ),
            TEXT: Trunk(
                c.text_embed_dim,
                c.text_num_blocks,
                c.text_num_heads,
                pre_norm=False,
                learned_kv_token=False,
                causal=True,
            ),
            AUDIO: Trunk(
                c.audio_embed_dim, c.audio_num_blocks, c.audio_num_heads, pre_norm=False, learned_kv_token=True
            ),
            DEPTH: Trunk(
                c.depth_embed_dim, c.depth_num_blocks, c.depth_num_heads, pre_norm=False, learned_kv_token=True
            ),
            THERMAL: Trunk(
                c.thermal_embed_dim, c.thermal_num_blocks, c.thermal_num_heads, pre_norm=False, learned_kv_token=True
            ),
            IMU: Trunk(c.imu_embed_dim, c.imu_num_blocks, c.imu_num_heads, pre_norm=False, learned_kv_token=True),
        }
    )


def _class_token_head(dim: int, out_dim: int, *, with_dropout: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [nn.LayerNorm(dim, eps=BLOCK_NORM_EPS), SelectToken(0)]
    if with_dropout:  # the IMU head has a dropout layer, which shifts its Linear to index 3
        layers.append(nn.Dropout(p=0.5))
    layers.append(nn.Linear(dim, out_dim, bias=False))
    return nn.Sequential(*layers)


def _build_heads(c: ImageBindConfig) -> nn.ModuleDict:
    out = c.out_embed_dim
    return nn.ModuleDict(
        {
            VISION: _class_token_head(c.vision_embed_dim, out),
            TEXT: TextHead(c.text_embed_dim, out),
            AUDIO: _class_token_head(c.audio_embed_dim, out),
            DEPTH: _class_token_head(c.depth_embed_dim, out),
            THERMAL: _class_token_head(c.thermal_embed_dim, out),
            IMU: _class_token_head(c.imu_embed_dim, out, with_dropout=True),
        }
    )


def _build_postprocessors() -> nn.ModuleDict:
    def scaled(scale: float, *, learnable: bool = False) -> nn.Sequential:
        return nn.Sequential(L2Normalize(), LogitScale(scale, learnable=learnable))

    return nn.ModuleDict(
        {
            VISION: L2Normalize(),
            TEXT: scaled(1 / 0.07, learnable=True),
            AUDIO: scaled(20.0),
            DEPTH: scaled(5.0),
            THERMAL: scaled(10.0),
            IMU: scaled(5.0),
        }
    )


class ImageBindModel(nn.Module):
    """The ImageBind network. Build on ``meta`` (``with torch.device("meta"):``) to check shapes for free."""

    def __init__(self, config: ImageBindConfig, config_name: str = "custom") -> None:
        super().__init__()
        self.config = config
        self.config_name = config_name
        self.modality_preprocessors = _build_preprocessors(config)
        self.modality_trunks = _build_trunks(config)
        self.modality_heads = _build_heads(config)
        self.modality_postprocessors = _build_postprocessors()

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.modality_trunks.keys())

    def keep_only(self, modalities: Iterable[str]) -> None:
        """Drop every other modality's modules (after a strict load) to save memory."""
        keep = set(modalities)
        for table in (
            self.modality_preprocessors,
            self.modality_trunks,
            self.modality_heads,
            self.modality_postprocessors,
        ):
            for name in [n for n in table if n not in keep]:
                del table[name]

    def embed(self, modality: str, inputs: Tensor) -> Tensor:
        """Embeddings of one modality, exactly as the reference's ``forward`` returns them.

        ``inputs``: text token ids (B, 77) int64; images (B, 3, 224, 224); audio (B, clips, 1, 128, 204)
        filterbanks; depth/thermal (B, 1, 224, 224); IMU (B, 6, 2000). An input with 5 or more dimensions holds
        several clips per item: they are embedded one by one and averaged. The rows come out scaled by the
        modality's logit scale (text 1/0.07, audio 20, ...) and, after clip averaging, not unit length:
        normalise them before comparing across modalities.
        """
        if modality not in self.modality_trunks:
            raise ValueError(f"modality {modality!r} is not in this model ({', '.join(self.modalities)})")
        clips = inputs.ndim >= 5
        if clips:
            batch, per_item = inputs.shape[:2]
            inputs = inputs.reshape(batch * per_item, *inputs.shape[2:])
        tokens = self.modality_preprocessors[modality](inputs)
        features = self.modality_trunks[modality](tokens)
        head = self.modality_heads[modality]
        pooled = head(features, inputs.argmax(dim=-1)) if modality == TEXT else head(features)
        out: Tensor = self.modality_postprocessors[modality](pooled)
        if clips:
            out = out.reshape(batch, per_item, -1).mean(dim=1)
        return out

    def forward(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The reference's interface: ``{modality: inputs}`` -> ``{modality: embeddings}``."""
        return {modality: self.embed(modality, value) for modality, value in inputs.items()}


def build_model(config: ImageBindConfig, device: torch.device | str | None = None) -> ImageBindModel:
    """A model in eval mode; ``device="meta"`` allocates nothing (for shape checks and for ``assign`` loads)."""
    name = next((n for n, c in CONFIGS.items() if c == config), "custom")
    with torch.device(device if device is not None else "cpu"):
        model = ImageBindModel(config, name)
    return model.eval()
