"""ImageBind throughput on one device: embeddings per second per modality at batch 1/16/64, and peak memory.

Random weights at the ``huge`` configuration (the official checkpoint cannot be downloaded here and speed does
not depend on the values); model inputs are random tensors of the preprocessed shapes, so the figures are the
encoders alone. The CPU preprocessing the backend runs before them (BPE, image resize/crop, resample + fbank) is
timed separately. Baseline, measured in the same run: the same model in float32 at batch 16.

    python benchmarks/gpu_imagebind.py --out var/gpu_imagebind.json                  # GPU, huge, bfloat16
    python benchmarks/gpu_imagebind.py --device cpu --config tiny --out /tmp/x.json  # smoke check

Needs torch, numpy and Bindesk's ``embed.imagebind`` only. Bounded: each case runs for ``--case-seconds``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from embed.imagebind import audio as audio_prep
from embed.imagebind.config import TEXT_CONTEXT_LENGTH, TEXT_VOCAB_SIZE, config_by_name
from embed.imagebind.image import images_to_batch
from embed.imagebind.model import AUDIO, TEXT, VISION, ImageBindModel, build_model
from embed.imagebind.tokenizer import BpeTokenizer

MODALITIES = (TEXT, VISION, AUDIO)


def random_inputs(modality: str, batch: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Inputs of the shapes the preprocessing produces; text rows end in the end-of-text id at a random place."""
    if modality == TEXT:
        ids = torch.randint(1, TEXT_VOCAB_SIZE - 2, (batch, TEXT_CONTEXT_LENGTH))
        lengths = torch.randint(4, TEXT_CONTEXT_LENGTH, (batch,))
        positions = torch.arange(TEXT_CONTEXT_LENGTH).expand(batch, -1)
        ids = torch.where(positions < lengths[:, None], ids, torch.zeros_like(ids))
        ids[torch.arange(batch), lengths] = TEXT_VOCAB_SIZE - 1
        return ids.to(device)
    shape = (batch, 3, 224, 224) if modality == VISION else (batch, audio_prep.CLIPS_PER_ITEM, 1, 128, 204)
    return torch.randn(shape, device=device, dtype=dtype)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_case(
    model: ImageBindModel, modality: str, batch: int, device: torch.device, dtype: torch.dtype, seconds: float
) -> dict[str, float | int | str | None]:
    inputs = random_inputs(modality, batch, device, dtype)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode():
        for _ in range(2):  # warm-up: kernel selection, allocator
            model.embed(modality, inputs)
        synchronize(device)
        runs, start = 0, time.perf_counter()
        while True:
            model.embed(modality, inputs)
            runs += 1
            synchronize(device)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds or runs >= 200:
                break
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {
        "modality": modality,
        "batch": batch,
        "dtype": str(dtype).removeprefix("torch."),
        "runs": runs,
        "ms_per_batch": round(1000 * elapsed / runs, 3),
        "embeddings_per_s": round(batch * runs / elapsed, 2),
        "peak_memory_mib": None if peak is None else round(peak, 1),
    }


def time_preprocessing(seconds: float) -> dict[str, float]:
    """Items per second of the CPU preprocessing, one item at a time as the backend does it."""
    rng = np.random.default_rng(0)
    tokenizer = BpeTokenizer()
    photo = Image.fromarray(rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8))
    voice = (0.1 * rng.standard_normal(8 * 44_100)).astype(np.float32)
    sentences = [f"my router model RT-{i} shows error E{i % 97} after the firmware update" for i in range(10_000)]
    cases: dict[str, Callable[[int], object]] = {
        "text_tokenize_per_s": lambda i: tokenizer([sentences[i % len(sentences)]]),
        "image_1024x768_per_s": lambda i: images_to_batch([photo]),
        "audio_8s_44k1_per_s": lambda i: audio_prep.clip_to_batch_item(voice, 44_100),
    }
    rates = {}
    for name, step in cases.items():
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds and runs < 500:
            step(runs)
            runs += 1
        rates[name] = round(runs / (time.perf_counter() - start), 1)
    return rates


def build(config_name: str, device: torch.device, dtype: torch.dtype) -> ImageBindModel:
    torch.manual_seed(0)
    model = build_model(config_by_name(config_name), device=device)
    model.keep_only(MODALITIES)  # what the backend keeps after loading
    return model.to(dtype=dtype).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--config", default="huge", choices=["huge", "tiny"])
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--case-seconds", type=float, default=3.0)
    parser.add_argument("--skip-baseline", action="store_true", help="skip the float32 batch-16 baseline")
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    batches = [int(b) for b in args.batches.split(",")]
    began = time.perf_counter()
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # the float32 baseline means float32

    model = build(args.config, device, dtype)
    params = {m: sum(p.numel() for p in model.modality_trunks[m].parameters()) for m in MODALITIES}
    results = [time_case(model, m, b, device, dtype, args.case_seconds) for m in MODALITIES for b in batches]
    weights_mib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    peak_overall = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()

    baseline = []
    if not args.skip_baseline:
        fp32 = build(args.config, device, torch.float32)
        baseline = [time_case(fp32, m, 16, device, torch.float32, args.case_seconds) for m in MODALITIES]
        del fp32

    report = {
        "benchmark": "gpu_imagebind",
        "config": args.config,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "dtype": args.dtype,
        "trunk_parameters": params,
        "weights_mib": round(weights_mib, 1),
        "peak_memory_mib": None if peak_overall is None else round(peak_overall, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
        "baseline_float32_batch16": baseline,
        "cpu_preprocessing": time_preprocessing(min(args.case_seconds, 3.0)),
        "wall_s": None,
    }
    report["wall_s"] = round(time.perf_counter() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    base = {r["modality"]: r["embeddings_per_s"] for r in baseline}
    print(f"ImageBind {args.config} on {report['device']} ({args.dtype}); baseline: float32 at batch 16")
    print(f"{'modality':<8} {'batch':>5} {'emb/s':>10} {'ms/batch':>9} {'peak MiB':>9} {'fp32 b16 emb/s':>15}")
    for r in results:
        peak = "-" if r["peak_memory_mib"] is None else r["peak_memory_mib"]
        print(
            f"{r['modality']:<8} {r['batch']:>5} {r['embeddings_per_s']:>10} {r['ms_per_batch']:>9} "
            f"{peak:>9} {base.get(str(r['modality']), '-'):>15}"
        )
    print(f"CPU preprocessing (items/s): {report['cpu_preprocessing']}")
    print(f"wrote {args.out} in {report['wall_s']} s")


if __name__ == "__main__":
    main()
