"""Per-modality tokenisers of the ImageBind model: raw tensors in, (batch, tokens, width) out.

Module and parameter names follow the reference state dict (``rgbt_stem.proj.1.weight``,
``pos_embedding_helper.pos_embed``, ``token_embedding.weight``, ``imu_stem.norm_layer.weight``, ...).
Inputs must have the size the model was trained on (224x224 images, 128x204 filterbanks, 6x2000 IMU): the
position tables are not interpolated, and a wrong size raises ``ValueError``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from embed.imagebind.layers import init_scaled_normal_


class RepeatToFrames(nn.Module):
    """Turns an image batch (B, C, H, W) into a video batch (B, C, T, H, W) by repeating it ``frames`` times."""

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.frames = frames

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 4:
            x = x.unsqueeze(2)
        if x.ndim != 5:
            raise ValueError(f"expected (B, C, H, W) or (B, C, T, H, W) images, got shape {tuple(x.shape)}")
        if x.shape[2] == 1:
            x = x.repeat(1, 1, self.frames, 1, 1)
        return x


class PatchStem(nn.Module):
    """Patchify with ``proj`` (a strided convolution), flatten to tokens, optionally LayerNorm them."""

    def __init__(self, proj: nn.Module, norm_dim: int | None) -> None:
        super().__init__()
        self.proj = proj
        self.norm_layer = nn.LayerNorm(norm_dim) if norm_dim is not None else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(x).flatten(2).transpose(1, 2)  # B, C, (T), H, W -> B, (T)HW, C
        return self.norm_layer(x) if self.norm_layer is not None else x


class PositionTable(nn.Module):
    """Learned position embeddings for ``num_tokens`` tokens (the class token included)."""

    def __init__(self, num_tokens: int, dim: int) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.empty(1, num_tokens, dim))
        init_scaled_normal_(self.pos_embed, dim)


class PatchPreprocessor(nn.Module):
    """Images, filterbanks, depth and thermal maps: patches + a class token + learned positions.

    ``stem_name`` is the attribute the stem lives under in the reference (``rgbt_stem`` or ``depth_stem``).
    """

    def __init__(self, stem_name: str, stem: PatchStem, num_patches: int, dim: int) -> None:
        super().__init__()
        self.stem_name = stem_name
        self.add_module(stem_name, stem)
        self.num_patches = num_patches
        self.pos_embedding_helper = PositionTable(num_patches + 1, dim)
        self.cls_token = nn.Parameter(torch.empty(1, 1, dim))
        init_scaled_normal_(self.cls_token, dim)

    @property
    def stem(self) -> PatchStem:
        stem = getattr(self, self.stem_name)
        assert isinstance(stem, PatchStem)
        return stem

    def forward(self, x: Tensor) -> Tensor:
        tokens = self.stem(x)
        if tokens.shape[1] != self.num_patches:
            raise ValueError(
                f"input of shape {tuple(x.shape)} gives {tokens.shape[1]} patches, expected {self.num_patches}"
            )
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        return tokens + self.pos_embedding_helper.pos_embed


class TextPreprocessor(nn.Module):
    """Token ids (B, context) -> embeddings + positions.

    ``mask`` is the reference's causal attention mask, kept as a buffer only because the checkpoint holds it;
    the text trunk applies the same mask through ``is_causal``.
    """

    def __init__(self, vocab_size: int, context_length: int, dim: int) -> None:
        super().__init__()
        self.context_length = context_length
        self.token_embedding = nn.Embedding(vocab_size, dim)
        self.pos_embed = nn.Parameter(torch.empty(1, context_length, dim))
        mask = torch.full((context_length, context_length), float("-inf")).triu_(1)
        self.register_buffer("mask", mask)
        with torch.no_grad():
            nn.init.normal_(self.token_embedding.weight, std=0.02)
            nn.init.normal_(self.pos_embed, std=0.01)

    def forward(self, token_ids: Tensor) -> Tensor:
        if token_ids.ndim != 2 or token_ids.shape[1] != self.context_length:
            raise ValueError(f"expected token ids of shape (B, {self.context_length}), got {tuple(token_ids.shape)}")
        return self.token_embedding(token_ids) + self.pos_embed


class ImuPreprocessor(nn.Module):
    """IMU windows (B, 6, 2000) -> 250 patches of 8 samples x 6 channels, projected, plus a class token."""

    def __init__(self, channels: int, length: int, kernel: int, dim: int) -> None:
        super().__init__()
        self.kernel = kernel
        self.num_patches = length // kernel
        self.imu_stem = PatchStem(nn.Linear(channels * kernel, dim, bias=False), norm_dim=dim)
        self.pos_embed = nn.Parameter(torch.empty(1, self.num_patches + 1, dim))
        self.cls_token = nn.Parameter(torch.empty(1, 1, dim))
        with torch.no_grad():
            nn.init.normal_(self.pos_embed, std=0.01)
        init_scaled_normal_(self.cls_token, dim)

    def forward(self, x: Tensor) -> Tensor:
        patches = x.unfold(-1, self.kernel, self.kernel).permute(0, 2, 1, 3)  # B, patches, channels, kernel
        patches = patches.reshape(patches.shape[0], patches.shape[1], -1)
        if patches.shape[1] != self.num_patches:
            raise ValueError(
                f"IMU input of shape {tuple(x.shape)} gives {patches.shape[1]} patches, expected {self.num_patches}"
            )
        assert self.imu_stem.norm_layer is not None
        tokens = self.imu_stem.norm_layer(self.imu_stem.proj(patches))
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        return tokens + self.pos_embed
