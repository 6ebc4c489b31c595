"""The transformer trunk shared by every ImageBind modality, in plain PyTorch.

Parameter and buffer names match the reference implementation's state dict (``blocks.N.attn.in_proj_weight``,
``blocks.N.norm_1.weight``, ``blocks.N.mlp.fc1.weight``, ...) so the official checkpoint loads with ``strict=True``.
The reference runs :class:`torch.nn.MultiheadAttention` on sequence-first tensors; this port keeps the same
parameters but works batch-first and calls :func:`torch.nn.functional.scaled_dot_product_attention`, which picks
a fused kernel on GPU. Dropout and drop-path are left out: this port only runs inference.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BLOCK_NORM_EPS = 1e-6


class SelfAttention(nn.Module):
    """Multi-head self-attention with the parameter layout of ``nn.MultiheadAttention``.

    ``learned_kv_token`` adds the ``bias_k`` / ``bias_v`` vectors of ``add_bias_kv=True``: one extra key and value
    that every query may attend to (ImageBind's audio, depth, thermal and IMU trunks have them).
    """

    def __init__(self, dim: int, num_heads: int, *, learned_kv_token: bool, causal: bool) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embedding width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.causal = causal
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        self.bias_k: nn.Parameter | None = None
        self.bias_v: nn.Parameter | None = None
        if learned_kv_token:
            self.bias_k = nn.Parameter(torch.empty(1, 1, dim))
            self.bias_v = nn.Parameter(torch.empty(1, 1, dim))
        self.out_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)
        if self.bias_k is not None and self.bias_v is not None:
            nn.init.xavier_normal_(self.bias_k)
            nn.init.xavier_normal_(self.bias_v)

    def forward(self, x: Tensor) -> Tensor:
        batch, length, dim = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        if self.bias_k is not None and self.bias_v is not None:
            k = torch.cat([k, self.bias_k.expand(batch, 1, dim)], dim=1)
            v = torch.cat([v, self.bias_v.expand(batch, 1, dim)], dim=1)
        q, k, v = (self._split_heads(t) for t in (q, k, v))
        # The reference masks with an additive upper-triangular -inf matrix; is_causal is the same mask and lets
        # the fused kernels run. The causal trunk (text) has no learned key, so the mask stays square.
        out = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        return self.out_proj(out.transpose(1, 2).reshape(batch, length, dim))

    def _split_heads(self, t: Tensor) -> Tensor:
        batch, length, dim = t.shape
        return t.view(batch, length, self.num_heads, dim // self.num_heads).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm_1(x))`` then ``x + mlp(norm_2(x))``."""

    def __init__(self, dim: int, num_heads: int, *, learned_kv_token: bool, causal: bool) -> None:
        super().__init__()
        self.attn = SelfAttention(dim, num_heads, learned_kv_token=learned_kv_token, causal=causal)
        self.norm_1 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)
        self.mlp = Mlp(dim, 4 * dim)
        self.norm_2 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm_1(x))
        return x + self.mlp(self.norm_2(x))


class Trunk(nn.Module):
    """A stack of :class:`Block` with an optional LayerNorm in front (the vision trunk has one).

    ``pre_transformer_layer`` is a one-element ``Sequential`` so its LayerNorm is named
    ``pre_transformer_layer.0`` as in the reference, where index 1 is a parameter-free rearrange.
    """

    def __init__(
        self,
        dim: int,
        num_blocks: int,
        num_heads: int,
        *,
        pre_norm: bool,
        learned_kv_token: bool,
        causal: bool = False,
    ) -> None:
        super().__init__()
        first: nn.Module = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS) if pre_norm else nn.Identity()
        self.pre_transformer_layer = nn.Sequential(first)
        self.blocks = nn.Sequential(
            *(Block(dim, num_heads, learned_kv_token=learned_kv_token, causal=causal) for _ in range(num_blocks))
        )
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, tokens: Tensor) -> Tensor:
        """(batch, tokens, dim) -> (batch, tokens, dim)."""
        return self.blocks(self.pre_transformer_layer(tokens))


def init_scaled_normal_(tensor: Tensor, dim: int) -> None:
    """The reference's "openclip" init for class tokens and position tables: N(0, 1) / sqrt(dim)."""
    with torch.no_grad():
        nn.init.normal_(tensor)
        tensor.mul_(1.0 / math.sqrt(dim))
