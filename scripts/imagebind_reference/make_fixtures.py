"""Make the ImageBind fidelity fixtures with the reference implementation (not run by CI).

Runs in a scratch environment OUTSIDE the project (the reference stack must never enter the project's venv):

    python3.11 -m venv /work/scratch_ib
    /work/scratch_ib/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/scratch_ib/bin/pip install timm ftfy regex iopath einops soundfile 'setuptools<81'
    /work/scratch_ib/bin/pip install --no-deps imagebind-unofficial==0.1.1 pytorchvideo==0.1.5
    /work/scratch_ib/bin/pip install --no-deps --target /work/scratch_ib/ta torchaudio==2.11.0
    PYTHONPATH=/work/scratch_ib/ta /work/scratch_ib/bin/python scripts/imagebind_reference/make_fixtures.py

``imagebind-unofficial`` 0.1.1 is facebookresearch/ImageBind at 53680b0 plus the BPE vocabulary. Writes into
``tests/fixtures/imagebind/``:

- ``huge_state_dict.tsv``: key, shape, dtype of every state-dict entry of ``imagebind_huge`` (built on meta);
- ``tiny_state_dict.npz``: a tiny configuration's seeded random weights (float32; rows of the 49,408-token table
  that no fixture text uses are zeroed so the file compresses: they never reach an output);
- ``image_*.png``, ``audio_*.wav``: inputs drawn and synthesised here with Pillow and numpy;
- ``reference.npz``: the reference preprocessing of those inputs (token ids, image tensors, resampled audio,
  filterbank clips), synthetic depth/thermal/IMU inputs, and the tiny model's reference outputs per modality;
- ``texts.json``: the fixture strings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
import torchvision.transforms._functional_tensor as _functional_tensor
from PIL import Image, ImageDraw

# pytorchvideo 0.1.5 imports a torchvision module that was renamed; the reference data.py imports pytorchvideo.
sys.modules.setdefault("torchvision.transforms.functional_tensor", _functional_tensor)

import imagebind.data as reference_data  # noqa: E402
import torchaudio  # noqa: E402
from imagebind.models import imagebind_model  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED_TSV = REPO.parent / "shared" / "data" / "imagebind" / "huge_state_dict.tsv"

TINY_KWARGS: dict[str, Any] = dict(
    video_frames=2,
    out_embed_dim=16,
    vision_embed_dim=32, vision_num_blocks=2, vision_num_heads=2,
    text_embed_dim=32, text_num_blocks=2, text_num_heads=2,
    audio_embed_dim=32, audio_num_blocks=2, audio_num_heads=2, audio_drop_path=0.0,
    depth_embed_dim=32, depth_num_blocks=1, depth_num_heads=2, depth_drop_path=0.0,
    thermal_embed_dim=32, thermal_num_blocks=1, thermal_num_heads=2, thermal_drop_path=0.0,
    imu_embed_dim=32, imu_num_blocks=1, imu_num_heads=2, imu_drop_path=0.0,
)  # fmt: skip

TEXTS = [
    "a photo of a dog",
    "The router's LED blinks orange — what does error E42 mean?",
    "\u201cCurly quotes\u201d and \u2018single ones\u2019 with an \ufb01ligature",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and an ideographic\u3000space",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve co\u00f6perate \u2014 \u00c5ngstr\u00f6m",
    "HTML &amp; entities &lt;b&gt; &quot;here&quot; &#39;too&#39;",
    "emoji 🚀🔥 and 中文 字符 and Ελληνικά",
    "   lots\tof \n\n whitespace   ",
    "",
    " ".join(f"word{i} number {i * 7} reset the device" for i in range(30)),  # far past 77 tokens
]


@contextmanager
def linspace_on_cpu() -> Iterator[None]:
    """The reference calls ``torch.linspace(...).item()`` while building, which fails on ``meta``."""
    original = torch.linspace

    def cpu_linspace(*args: Any, **kwargs: Any) -> torch.Tensor:
        kwargs["device"] = "cpu"
        return original(*args, **kwargs)

    torch.linspace = cpu_linspace  # type: ignore[assignment]
    try:
        yield
    finally:
        torch.linspace = original  # type: ignore[assignment]


def huge_state_dict_lines() -> list[str]:
    with linspace_on_cpu(), torch.device("meta"):
        model = imagebind_model.imagebind_huge(pretrained=False)
    return [f"{k}\t{'x'.join(map(str, v.shape))}\t{v.dtype}" for k, v in model.state_dict().items()]


def draw_images(out: Path) -> list[Path]:
    """A landscape RGB picture and a small portrait palette picture (upscaled and converted by preprocessing)."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:200, 0:320]
    base = np.stack([(x * 255 / 319), (y * 255 / 199), ((x + y) % 64) * 4], axis=-1).astype(np.uint8)
    landscape = Image.fromarray(base, "RGB")
    draw = ImageDraw.Draw(landscape)
    draw.ellipse((40, 30, 150, 140), fill=(220, 30, 40), outline=(0, 0, 0), width=3)
    draw.rectangle((180, 60, 300, 180), fill=(20, 120, 220))
    draw.text((10, 180), "E42 reset", fill=(255, 255, 255))
    noise = rng.integers(0, 30, size=(200, 320, 3), dtype=np.uint8)
    landscape = Image.fromarray(np.clip(np.asarray(landscape, dtype=np.int16) + noise, 0, 255).astype(np.uint8))

    portrait = Image.new("P", (150, 261), 0)
    portrait.putpalette([v for i in range(256) for v in ((i * 7) % 256, (i * 13) % 256, (i * 29) % 256)])
    draw = ImageDraw.Draw(portrait)
    for i in range(0, 261, 9):
        draw.line((0, i, 149, 260 - i), fill=(i * 3) % 256, width=2)
    draw.polygon([(75, 20), (140, 120), (10, 120)], fill=200)

    paths = [out / "image_landscape.png", out / "image_portrait.png"]
    landscape.save(paths[0])
    portrait.save(paths[1])
    return paths


def synthesize_audio(out: Path) -> list[Path]:
    """Stereo 44.1 kHz, 3.1 s (resampling, channel 0, overlapping clips) and mono 16 kHz, 1.5 s (padding)."""
    rng = np.random.default_rng(2)
    t = np.arange(int(3.1 * 44100)) / 44100
    chirp = 0.4 * np.sin(2 * np.pi * (200 * t + 600 * t**2))
    left = chirp + 0.2 * np.sin(2 * np.pi * 3000 * t) * (t > 1.2) + 0.02 * rng.standard_normal(t.size) + 0.01
    right = 0.5 * np.sign(np.sin(2 * np.pi * 90 * t)) + 0.05 * rng.standard_normal(t.size)  # unlike channel 0
    t16 = np.arange(int(1.5 * 16000)) / 16000
    mono = 0.3 * np.sin(2 * np.pi * 440 * t16) * np.exp(-t16) + 0.1 * np.sin(2 * np.pi * 7000 * t16)
    mono += 0.03 * rng.standard_normal(t16.size)
    paths = [out / "audio_stereo_44k1.wav", out / "audio_mono_16k.wav"]
    sf.write(paths[0], np.stack([left, right], axis=1), 44100, subtype="PCM_16")
    sf.write(paths[1], mono, 16000, subtype="PCM_16")
    return paths


def load_with_soundfile(path: str, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, int]:
    """torchaudio.load needs torchcodec; this returns the same (channels, samples) float32 for PCM WAV."""
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    return torch.from_numpy(samples.T.copy()), rate


def synthetic(shape: tuple[int, ...], phase: float) -> np.ndarray:
    return np.sin(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 0.37 + phase).astype(np.float32)


def tiny_model(tokens_in_use: torch.Tensor) -> tuple[torch.nn.Module, dict[str, np.ndarray]]:
    torch.manual_seed(0)
    model = imagebind_model.ImageBindModel(**TINY_KWARGS).eval()
    table = model.modality_preprocessors["text"].token_embedding.weight
    unused = torch.ones(table.shape[0], dtype=torch.bool)
    unused[tokens_in_use.unique()] = False
    with torch.no_grad():
        table[unused] = 0.0
    state = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    return model, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "imagebind")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    lines = huge_state_dict_lines()
    (out / "huge_state_dict.tsv").write_text("\n".join(lines) + "\n")
    if SHARED_TSV.exists():
        assert SHARED_TSV.read_text().splitlines() == lines, "huge state dict differs from the shared list"
    print(f"huge: {len(lines)} entries")

    (out / "texts.json").write_text(json.dumps(TEXTS, ensure_ascii=False, indent=1) + "\n")
    image_paths = draw_images(out)
    audio_paths = synthesize_audio(out)

    reference_data.torchaudio.load = load_with_soundfile  # type: ignore[attr-defined]
    tokens = reference_data.load_and_transform_text(TEXTS, "cpu")
    vision = reference_data.load_and_transform_vision_data([str(p) for p in image_paths], "cpu")
    audio = reference_data.load_and_transform_audio_data([str(p) for p in audio_paths], "cpu")
    stereo, rate = load_with_soundfile(str(audio_paths[0]))
    resampled = torchaudio.functional.resample(stereo, orig_freq=rate, new_freq=16000)
    depth = synthetic((1, 1, 224, 224), 0.5)
    thermal = synthetic((1, 1, 224, 224), 1.5)
    imu = synthetic((1, 6, 2000), 2.5)

    model, state = tiny_model(tokens)
    np.savez_compressed(out / "tiny_state_dict.npz", **state)
    with torch.no_grad():
        embeddings = model(
            {
                "text": tokens,
                "vision": vision,
                "audio": audio,
                "depth": torch.from_numpy(depth),
                "thermal": torch.from_numpy(thermal),
                "imu": torch.from_numpy(imu),
            }
        )
    np.savez_compressed(
        out / "reference.npz",
        text_tokens=tokens.numpy(),
        vision_inputs=vision.numpy(),
        audio_inputs=audio.numpy(),
        stereo_resampled=resampled.numpy(),
        depth_inputs=depth,
        thermal_inputs=thermal,
        imu_inputs=imu,
        **{f"{name}_embeddings": value.numpy() for name, value in embeddings.items()},
    )
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in embeddings.items())
    print(f"tiny: {len(state)} entries; embeddings {shapes}")


if __name__ == "__main__":
    main()
