"""ImageBind (Girdhar et al., 2023) ported to plain PyTorch: text, images and audio in one embedding space.

- :mod:`embed.imagebind.model`: the network, loadable from the official ``imagebind_huge.pth`` with
  ``strict=True`` (:mod:`embed.imagebind.config` has the ``huge`` and ``tiny`` sizes);
- :mod:`embed.imagebind.tokenizer`, :mod:`embed.imagebind.image`, :mod:`embed.imagebind.audio`: the reference
  preprocessing without torchvision or torchaudio;
- :mod:`embed.imagebind.backend`: :class:`~embed.imagebind.backend.ImageBindEmbedder`, the ``imagebind``
  :class:`embed.protocol.Embedder`.

The official weights are licensed CC-BY-NC 4.0 and are never downloaded: a deployment supplies the file.
Fidelity to the reference implementation is pinned by fixtures made with ``scripts/imagebind_reference``.
"""
