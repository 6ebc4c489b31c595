"""The ``imagebind`` embedder and the ``t5`` generator at real size on a GPU, through Bindesk's own backends.

`gpu_imagebind.py` times ImageBind's encoders on ready tensors; this script times what a worker or a chat turn
actually calls: :class:`embed.imagebind.backend.ImageBindEmbedder` (checkpoint file -> warm-up -> BPE / image
crop / fbank on the CPU -> encoder on the GPU -> unit vectors) and :class:`generation.t5.T5Generator`
(``save_pretrained`` directory -> prompt building and tokenising -> greedy generation -> grounding). Four parts,
each written to ``--out`` as soon as it ends, so a run stopped early still reports what it finished:

1. ``fidelity``: the tiny reference checkpoint (``tests/fixtures/imagebind``) on the GPU in float32 and
   bfloat16 against the reference implementation's embeddings (the CPU tests hold float32 to 1e-4).
2. ``imagebind``: a randomly initialised checkpoint of the ``huge`` configuration (all 1,311 tensors, float32,
   4.5 GB, the official file's layout) saved with ``torch.save``, loaded by the backend, then texts, photos and
   5-second voice notes embedded at the configured batch size, and one item at a time (a chat turn).
3. ``t5``: T5-base and T5-large configurations with random weights and a 32,128-word word-level tokenizer
   (no SentencePiece model ships here), every prompt filled to the 512-token budget with the Meshly fixture
   pages, answers generated greedily to ``max_new_tokens`` (random weights never emit ``</s>`` early, so this
   is the longest answer the settings allow).
4. ``t5_cpu_baseline``: T5-base, one request at a time, on the same machine's CPU cores (the baseline).

Random weights: the official ImageBind file cannot be downloaded here and no fine-tuned T5 exists; speed does not
depend on the values. Answers from random weights are not grounded, so they come back empty: quality is not
measured here.

    python benchmarks/gpu_backends.py --out var/gpu_backends.json            # a CUDA machine
    python benchmarks/gpu_backends.py --smoke --device cpu --out /tmp/x.json  # tiny sizes, checks the script
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from core.media import AudioClip  # noqa: E402
from core.settings import Settings  # noqa: E402
from embed.imagebind.backend import ImageBindEmbedder  # noqa: E402
from embed.imagebind.config import config_by_name  # noqa: E402
from embed.imagebind.model import build_model  # noqa: E402
from generation.protocol import GenerationRequest, Passage  # noqa: E402
from generation.t5 import T5Cache, T5Generator  # noqa: E402
from tests.support.tiny_t5 import TINY, T5Shape, save_tiny_t5, word_tokenizer  # noqa: E402

IMAGEBIND_FIXTURES = ROOT / "tests" / "fixtures" / "imagebind"
MESHLY = ROOT / "tests" / "fixtures" / "meshly"
T5_SIZES = {  # the published T5 v1.0 shapes
    "t5-base": T5Shape(d_model=768, d_ff=3072, d_kv=64, num_heads=12, num_layers=12),
    "t5-large": T5Shape(d_model=1024, d_ff=4096, d_kv=64, num_heads=16, num_layers=24),
    "tiny": TINY,
}
T5_VOCAB = 32_128

log = logging.getLogger("gpu_backends")


class Report:
    """The JSON result, rewritten after every part."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = dict(header)
        self.began = time.perf_counter()
        self.write()

    def add(self, part: str, value: Any) -> None:
        self.data[part] = value
        self.data["wall_s"] = round(time.perf_counter() - self.began, 1)
        self.write()
        print(f"[{self.data['wall_s']:>6} s] {part}: {json.dumps(value)}", flush=True)

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=2) + "\n")


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_mib(device: str) -> float | None:
    return round(torch.cuda.max_memory_allocated() / 2**20, 1) if device.startswith("cuda") else None


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def timed(step: Callable[[], object], device: str) -> float:
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return time.perf_counter() - start


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
    }


# --- ImageBind ---------------------------------------------------------------------------------------------------
def imagebind_settings(data_dir: Path, checkpoint: Path, config: str, device: str, dtype: str, batch: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        embedder="imagebind",
        imagebind_checkpoint=checkpoint,
        imagebind_config=config,  # type: ignore[arg-type]
        imagebind_device=device,
        imagebind_dtype=dtype,  # type: ignore[arg-type]
        embed_batch_size=batch,
    )


def fixture_inputs() -> tuple[list[str], list[Image.Image], list[AudioClip]]:
    texts: list[str] = json.loads((IMAGEBIND_FIXTURES / "texts.json").read_text(encoding="utf-8"))
    images = [Image.open(IMAGEBIND_FIXTURES / n).convert("RGB") for n in ("image_landscape.png", "image_portrait.png")]
    clips = []
    for name in ("audio_stereo_44k1.wav", "audio_mono_16k.wav"):
        samples, rate = sf.read(IMAGEBIND_FIXTURES / name, dtype="float32")
        clips.append(AudioClip(samples=samples, sample_rate=rate))
    return texts, images, clips


def fidelity(work: Path, device: str) -> dict[str, Any]:
    """Largest difference from the reference embeddings (unit vectors) and smallest cosine, per dtype/modality."""
    with np.load(IMAGEBIND_FIXTURES / "tiny_state_dict.npz") as data:
        state = {name: torch.from_numpy(data[name]) for name in data.files}
    checkpoint = work / "imagebind_tiny.pth"
    torch.save(state, checkpoint)
    with np.load(IMAGEBIND_FIXTURES / "reference.npz") as data:
        reference = {name: data[name] for name in data.files}
    texts, images, clips = fixture_inputs()
    result: dict[str, Any] = {}
    for dtype in ("float32", "bfloat16"):
        embedder = ImageBindEmbedder(imagebind_settings(work, checkpoint, "tiny", device, dtype, 4))
        got = {
            "text": embedder.embed_texts(texts),
            "vision": embedder.embed_images(images, ["" for _ in images]).dense,
            "audio": embedder.embed_audio(clips, ["" for _ in clips]),
        }
        for modality, vectors in got.items():
            want = reference[f"{modality}_embeddings"]
            want = want / np.linalg.norm(want, axis=-1, keepdims=True)
            result[f"{dtype}_{modality}"] = {
                "max_abs_diff": float(np.abs(vectors - want).max()),
                "min_cosine": float((vectors * want).sum(axis=1).min()),
            }
    return result


def random_huge_checkpoint(path: Path, config: str, device: str) -> dict[str, Any]:
    """Save a random checkpoint with every tensor the official file has (float32), as a user would supply it."""
    torch.manual_seed(0)
    began = time.perf_counter()
    model = build_model(config_by_name(config), device=device)
    state = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    del model
    torch.save(state, path)
    info = {"tensors": len(state), "file_gib": round(path.stat().st_size / 2**30, 2)}
    info["build_and_save_s"] = round(time.perf_counter() - began, 1)
    del state
    reset_peak(device)
    return info


def embed_case(
    embed: Callable[[Sequence[Any]], object], inputs: Sequence[Any], batch: int, device: str
) -> dict[str, Any]:
    """Items per second for ``inputs`` in the backend's batches, and the latency of one item alone."""
    embed(inputs[:batch])  # warm-up: kernel selection, allocator
    reset_peak(device)
    bulk = timed(partial(embed, inputs), device)
    one = [timed(partial(embed, [inputs[i % len(inputs)]]), device) for i in range(20)]
    return {
        "items": len(inputs),
        "items_per_s": round(len(inputs) / bulk, 1),
        "one_item": percentiles(one),
        "peak_memory_mib": peak_mib(device),
    }


def imagebind(work: Path, config: str, device: str, batch: int, items: int) -> dict[str, Any]:
    checkpoint = work / f"imagebind_{config}.pth"
    result: dict[str, Any] = {"checkpoint": random_huge_checkpoint(checkpoint, config, device), "batch": batch}
    embedder = ImageBindEmbedder(imagebind_settings(work, checkpoint, config, device, "bfloat16", batch))
    result["warm_up_s"] = round(timed(embedder.warm_up, device), 2)
    result["memory_after_load_mib"] = peak_mib(device)

    rng = np.random.default_rng(0)
    sentences = [line.strip() for page in sorted(MESHLY.glob("*.md")) for line in page.read_text().splitlines()]
    sentences = [s for s in sentences if len(s.split()) >= 4]
    texts = [sentences[i % len(sentences)] for i in range(items)]
    photos = [Image.fromarray(rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8)) for _ in range(min(items, 64))]
    photos = [photos[i % len(photos)] for i in range(items // 4)]
    voice = [AudioClip(samples=(0.1 * rng.standard_normal(5 * 16_000)).astype(np.float32), sample_rate=16_000)]
    clips = voice * (items // 4)
    cases: dict[str, tuple[Callable[[Sequence[Any]], object], Sequence[Any]]] = {
        "text": (embedder.embed_texts, texts),
        "photo_1024x768": (lambda xs: embedder.embed_images(xs, ["" for _ in xs]), photos),
        "voice_5s_16k": (lambda xs: embedder.embed_audio(xs, ["" for _ in xs]), clips),
    }
    for name, (embed, inputs) in cases.items():
        result[name] = embed_case(embed, inputs, batch, device)
    checkpoint.unlink()
    reset_peak(device)
    return result


# --- T5 ------------------------------------------------------------------------------------------------------------
def meshly_requests(count: int) -> list[GenerationRequest]:
    """Questions over the Meshly pages, each with five ~120-word passages (more than a 512-token prompt holds)."""
    words = " ".join(page.read_text() for page in sorted(MESHLY.glob("*.md"))).split()
    chunks = [" ".join(words[i : i + 120]) for i in range(0, len(words) - 120, 60)]
    questions = [
        "How do I set up a guest network for visitors?",
        "My router blinks red and the app says E-21, what should I do?",
        "Can I pause the internet for the kids at bedtime?",
        "How do I update the firmware on a satellite?",
    ]
    requests = []
    for i in range(count):
        passages = [
            Passage(
                number=n + 1,
                chunk_id=f"c{(i + n) % len(chunks)}",
                document_id="meshly",
                source="meshly.md",
                title="Meshly M3",
                page=None,
                text=chunks[(i * 3 + n) % len(chunks)],
                score=1.0 / (n + 1),
            )
            for n in range(5)
        ]
        history = [("customer", "hi, I have a Meshly M3"), ("bot", "Hello! How can I help with your Meshly M3?")]
        requests.append(GenerationRequest(question=questions[i % len(questions)], history=history, passages=passages))
    return requests


def save_random_t5(size: str, path: Path, device: str) -> Path:
    texts = [p.text for r in meshly_requests(8) for p in r.passages] + [r.question for r in meshly_requests(4)]
    if size != "tiny":  # the real vocabulary's size, so the embedding and output layers are full size
        words = len(word_tokenizer(texts))
        texts.append(" ".join(f"w{i:05d}" for i in range(T5_VOCAB - words)))
    tokenizer = word_tokenizer(texts)
    tokenizer.model_max_length = 512
    save_tiny_t5(tokenizer, path, T5_SIZES[size], device)
    reset_peak(device)
    return path


def t5(
    work: Path, size: str, cache: T5Cache, device: str, batches: Sequence[int], requests: int, new_tokens: int
) -> dict[str, Any]:
    began = time.perf_counter()
    directory = work / size
    if not directory.is_dir():
        save_random_t5(size, directory, device)
    result: dict[str, Any] = {"save_s": round(time.perf_counter() - began, 1), "max_new_tokens": new_tokens}
    asked = meshly_requests(requests)
    for batch in batches:
        generator = T5Generator(directory, device=device, max_new_tokens=new_tokens, batch_size=batch, cache=cache)
        if "warm_up_s" not in result:
            result["warm_up_s"] = round(timed(generator.warm_up, device), 2)
            result["parameters_m"] = round(sum(p.numel() for p in generator._model.parameters()) / 1e6, 1)
            result["dtype"] = str(generator._model.dtype).removeprefix("torch.")
            prompt = generator.input_text(asked[0])
            result["prompt_tokens"] = generator._count_tokens(prompt)
            with torch.inference_mode():  # token ids, not decoded text: <unk> and </s> count too
                ids = generator._model.generate(**generator._encode(asked[:1]), **generator._generation_options())
            result["generated_tokens"] = int(ids.shape[1]) - 1  # less the decoder start token
        else:
            generator.warm_up()
        first = timed(partial(generator.generate_batch, asked[:batch]), device)  # warm-up; compiles if static
        reset_peak(device)
        count = requests if batch > 1 else min(requests, 8)
        seconds = timed(partial(generator.generate_batch, asked[:count]), device)
        result[f"batch_{batch}"] = {
            "requests": count,
            "first_batch_s": round(first, 2),
            "requests_per_s": round(count / seconds, 2),
            "s_per_batch": round(seconds / -(-count // batch), 3),
            "peak_memory_mib": peak_mib(device),
        }
    return result


def t5_warm_start(work: Path, size: str, device: str, new_tokens: int) -> dict[str, Any]:
    """What a chat worker sees with the defaults (``cache="auto"``): warm-up time, then the first answers."""
    directory = work / size
    if not directory.is_dir():
        save_random_t5(size, directory, device)
    generator = T5Generator(directory, device=device, max_new_tokens=new_tokens, batch_size=1, cache="auto")
    warm_up = timed(generator.warm_up, device)
    asked = meshly_requests(9)
    first = timed(partial(generator.generate, asked[0]), device)
    after = [timed(partial(generator.generate, asked[i]), device) for i in range(1, 9)]
    streamed = timed(lambda: list(generator.stream_sentences(asked[0])), device)
    return {
        "size": size,
        "static_cache": generator.static_cache,
        "warm_up_s": round(warm_up, 2),
        "first_answer_s": round(first, 3),
        "next_8": percentiles(after),
        "streamed_answer_s": round(streamed, 3),
    }


def t5_cpu_baseline(work: Path, size: str, requests: int, new_tokens: int) -> dict[str, Any]:
    directory = work / size
    if not directory.is_dir():
        save_random_t5(size, directory, "cpu")
    generator = T5Generator(directory, device="cpu", max_new_tokens=new_tokens, batch_size=1)
    generator.warm_up()
    asked = meshly_requests(requests + 1)
    generator.generate_batch(asked[:1])
    one = [timed(partial(generator.generate_batch, [asked[i]]), "cpu") for i in range(1, requests + 1)]
    return {"size": size, "threads": torch.get_num_threads(), "requests": requests, **percentiles(one)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and few items: checks the script")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip")
    parser.add_argument("--t5-sizes", default="t5-base,t5-large")
    parser.add_argument("--t5-caches", default="dynamic,static", help="T5Generator cache settings to compare")
    parser.add_argument("--t5-batches", default="1,8,32")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    skip = set(filter(None, args.skip.split(",")))
    device = args.device
    header = {
        "benchmark": "gpu_backends",
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
        "smoke": args.smoke,
    }
    report = Report(args.out, header)
    with tempfile.TemporaryDirectory(prefix="bindesk-gpu-") as scratch:
        work = Path(scratch)
        if "fidelity" not in skip:
            report.add("fidelity", fidelity(work, device))
        if "imagebind" not in skip:
            config, items = ("tiny", 16) if args.smoke else ("huge", 1024)
            report.add("imagebind", imagebind(work, config, device, 64, items))
        sizes = ["tiny"] if args.smoke else args.t5_sizes.split(",")
        new_tokens = 8 if args.smoke else 128
        if "t5" not in skip:
            for size in sizes:
                for cache in args.t5_caches.split(","):
                    batches = [int(b) for b in args.t5_batches.split(",")]
                    measured = t5(work, size, cache, device, batches, 8 if args.smoke else 64, new_tokens)
                    report.add(f"t5_{size}_{cache}", measured)
        if "t5_warm" not in skip:
            report.add("t5_warm_start", t5_warm_start(work, sizes[0], device, new_tokens))
        if "t5_cpu" not in skip:
            report.add("t5_cpu_baseline", t5_cpu_baseline(work, sizes[0], 2 if args.smoke else 4, new_tokens))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
