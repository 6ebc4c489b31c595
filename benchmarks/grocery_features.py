"""Grocery photo -> product retrieval with the local embedder: the plain EfficientNet-Lite0 baseline beside the
tuned image features and the fused retrieval, all computed in this run.

KB: the 81 products of ../shared/data/grocery, each a text chunk ("<name>\\n\\n<description>", as the
ingested .txt file reads) and an image chunk (the web-shop photo: ``dense`` = MiniLM of its OCR text + visual
tags, ``visual`` = EfficientNet vector, BM25 text = name + OCR + "Pictured: <tags>", as kb/indexing.py stores
it). Query: an in-store phone photo, its OCR text and the local embedder's vectors. Gold: the photo's product.

Ranked lists (each as kb/search.retrieve runs them; depth 50):
  visual       query visual vector vs image chunks
  image_dense  query dense vector (MiniLM of OCR + tags) vs every chunk
  dense        MiniLM of the query's OCR text vs every chunk        (only when OCR read something)
  sparse       BM25 of the query's OCR text vs every chunk          (only when OCR read something)
fused by weighted reciprocal-rank fusion, then each product scored by its best chunk.

Tune only on grocery/val; ``--test`` also reports grocery/test (report only, never tune on it).

    .venv/bin/python benchmarks/grocery_features.py [--test] [--test-limit N] [--cache DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PIL import Image  # noqa: E402

from core.settings import Settings  # noqa: E402
from embed.local import LocalEmbedder  # noqa: E402
from embed.ocr import RapidOcrReader  # noqa: E402
from embed.vision import BASELINE_RECIPE, EfficientNetVisualEncoder  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "grocery"
DEPTH = 50
RRF_K = 60.0
# Fusion weights, chosen on grocery/val only.
RRF_WEIGHTS = {"visual": 1.0, "sparse": 1.0}
SCORE_WEIGHTS = {"visual": 1.0, "sparse": 0.2, "image_dense": 0.15, "dense": 0.1}
BM25_HALF = 3.0  # a BM25 score of 3 counts half as much as a perfect match
LISTS = ("visual", "image_dense", "dense", "sparse")


@dataclass(frozen=True)
class Photo:
    path: Path
    product: int


@dataclass
class Encoded:
    """What the local embedder (and OCR) gives for a set of photos."""

    ocr: list[str]
    tags: list[list[str]]
    dense: NDArray[np.float32]
    visual: NDArray[np.float32]
    baseline_visual: NDArray[np.float32]


# --- data ------------------------------------------------------------------------------------------------------


def read_products(root: Path) -> tuple[list[str], list[str], list[Photo]]:
    names, descriptions, photos = [], [], []
    with (root / "classes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names.append(row["Class Name (str)"])
            descriptions.append((root / row["Product Description Path (str)"].lstrip("/")).read_text(encoding="utf-8"))
            photos.append(Photo(root / row["Iconic Image Path (str)"].lstrip("/"), int(row["Class ID (int)"])))
    return names, descriptions, photos


def read_split(root: Path, split: str, limit: int | None) -> list[Photo]:
    photos = []
    for line in (root / f"{split}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rel, fine, _ = (part.strip() for part in line.split(","))
            photos.append(Photo(root / rel, int(fine)))
    if limit is not None and limit < len(photos):
        photos = random.Random(0).sample(photos, limit)  # the sample benchmarks/datasets.grocery_queries draws
    return photos


# --- encoding (cached per split) -------------------------------------------------------------------------------


def encode(
    photos: Sequence[Photo], embedder: LocalEmbedder, baseline: EfficientNetVisualEncoder, ocr: RapidOcrReader | None
) -> tuple[Encoded, dict[str, float]]:
    images = [Image.open(p.path).convert("RGB") for p in photos]
    started = time.perf_counter()
    texts = [ocr.read(image).text if ocr else "" for image in images]
    ocr_seconds = time.perf_counter() - started
    out_dense, out_visual, tags = [], [], []
    started = time.perf_counter()
    for first in range(0, len(images), 32):
        part = embedder.embed_images(images[first : first + 32], texts[first : first + 32])
        out_dense.append(part.dense)
        out_visual.append(part.visual)
        tags += part.tags
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    base = baseline.features(images)
    base_seconds = time.perf_counter() - started
    speed = {
        "ocr_images_per_s": len(images) / ocr_seconds if ocr else 0.0,
        "embed_images_per_s": len(images) / embed_seconds,
        "baseline_features_images_per_s": len(images) / base_seconds,
    }
    encoded = Encoded(texts, tags, np.concatenate(out_dense), np.concatenate(out_visual), base)
    return encoded, speed


def cached_encode(
    name: str,
    photos: Sequence[Photo],
    cache: Path | None,
    embedder: LocalEmbedder,
    baseline: EfficientNetVisualEncoder,
    ocr: RapidOcrReader | None,
) -> Encoded:
    if cache is not None and (cache / f"{name}.npz").is_file():
        with np.load(cache / f"{name}.npz") as data:
            meta = json.loads((cache / f"{name}.json").read_text(encoding="utf-8"))
            return Encoded(meta["ocr"], meta["tags"], data["dense"], data["visual"], data["baseline_visual"])
    encoded, speed = encode(photos, embedder, baseline, ocr)
    print(f"  encoded {name}: {len(photos)} photos; " + ", ".join(f"{k} {v:.1f}" for k, v in speed.items()))
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache / f"{name}.npz", dense=encoded.dense, visual=encoded.visual, baseline_visual=encoded.baseline_visual
        )
        (cache / f"{name}.json").write_text(json.dumps({"ocr": encoded.ocr, "tags": encoded.tags}), encoding="utf-8")
    return encoded


# --- retrieval as the pipeline does it -------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


class Bm25:
    """Okapi BM25 (k1 1.2, b 0.75) over lower-cased word tokens, like Milvus's BM25 function."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.counts = [Counter(_tokens(d)) for d in documents]
        self.lengths = np.array([sum(c.values()) for c in self.counts], dtype=np.float64)
        frequency = Counter(term for c in self.counts for term in c)
        n = len(documents)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.k1, self.b, self.mean_length = k1, b, float(self.lengths.mean())

    def scores(self, query: str) -> NDArray[np.float64]:
        out = np.zeros(len(self.counts))
        terms = _tokens(query)
        for i, counts in enumerate(self.counts):
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.mean_length)
            for term in terms:
                f = counts.get(term, 0)
                if f:
                    out[i] += self.idf[term] * f * (self.k1 + 1) / (f + norm)
        return out


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


@dataclass
class Kb:
    chunk_product: NDArray[np.int64]  # product of every chunk: text chunks 0..n-1, then image chunks
    dense: NDArray[np.float32]  # (2n, 384)
    visual: NDArray[np.float32]  # (n, D) image chunks
    baseline_visual: NDArray[np.float32]
    bm25: Bm25


def build_kb(names: Sequence[str], descriptions: Sequence[str], photos: Encoded, embedder: LocalEmbedder) -> Kb:
    titles = [name.replace("-", " ") for name in names]
    text_chunks = [f"{title}\n\n{text}" for title, text in zip(titles, descriptions, strict=True)]
    image_chunks = [
        f"{title}\n{ocr}" + (f"\nPictured: {', '.join(tags)}" if tags else "")
        for title, ocr, tags in zip(titles, photos.ocr, photos.tags, strict=True)
    ]
    n = len(names)
    return Kb(
        chunk_product=np.concatenate([np.arange(n), np.arange(n)]),
        dense=np.vstack([embedder.embed_texts(text_chunks), photos.dense]),
        visual=photos.visual,
        baseline_visual=photos.baseline_visual,
        bm25=Bm25(text_chunks + image_chunks),
    )


def list_scores(kb: Kb, queries: Encoded, embedder: LocalEmbedder) -> dict[str, NDArray[np.float64]]:
    """Per list, (queries, chunks) raw scores, NaN where the list does not return the chunk: each list keeps
    only its top ``DEPTH`` chunks, as a vector-store search would."""
    n_chunks, n_images = len(kb.chunk_product), len(kb.visual)
    has_text = np.array([bool(t.strip()) for t in queries.ocr])
    text_vectors = embedder.embed_texts([t if t.strip() else " " for t in queries.ocr])
    on_images = np.full((len(queries.ocr), n_chunks), np.nan)
    visual, baseline = on_images.copy(), on_images.copy()
    visual[:, n_chunks - n_images :] = queries.visual @ kb.visual.T
    baseline[:, n_chunks - n_images :] = queries.baseline_visual @ kb.baseline_visual.T
    sparse = np.array([kb.bm25.scores(t) if t.strip() else np.zeros(n_chunks) for t in queries.ocr])
    scores = {
        "baseline_visual": baseline,
        "visual": visual,
        "image_dense": (queries.dense @ kb.dense.T).astype(np.float64),
        "dense": np.where(has_text[:, None], text_vectors @ kb.dense.T, np.nan),
        "sparse": np.where(sparse > 0, sparse, np.nan),  # BM25 returns only chunks sharing a term
    }
    for matrix in scores.values():
        order = np.argsort(-np.nan_to_num(matrix, nan=-np.inf), axis=1, kind="stable")
        np.put_along_axis(matrix, order[:, DEPTH:], np.nan, axis=1)
    return scores


def rrf_chunk_scores(scores: Mapping[str, NDArray[np.float64]], weights: Mapping[str, float]) -> NDArray[np.float64]:
    """Weighted reciprocal-rank fusion (k = RRF_K) of the lists, per chunk (retrieval.fusion's formula)."""
    fused = np.zeros_like(next(iter(scores.values())))
    for name, weight in weights.items():
        matrix = scores[name]
        order = np.argsort(-np.nan_to_num(matrix, nan=-np.inf), axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(1, matrix.shape[1] + 1)[None, :].repeat(len(matrix), 0), axis=1)
        fused += np.where(np.isnan(matrix), 0.0, weight / (RRF_K + ranks))
    return fused


def weighted_chunk_scores(
    scores: Mapping[str, NDArray[np.float64]], weights: Mapping[str, float]
) -> NDArray[np.float64]:
    """Weighted sum of each list's raw score per chunk. A chunk a list did not return gets that list's lowest
    returned score for the query (it ranks below everything the list returned; 0 for BM25, where not returned
    means no shared term), so a depth cut does not punish a chunk more than the list itself would. BM25 is
    squashed to [0, 1) as s / (s + BM25_HALF) so its scale does not depend on the query's length."""
    fused = np.zeros_like(next(iter(scores.values())))
    for name, weight in weights.items():
        matrix = scores[name]
        if name == "sparse":
            matrix = np.nan_to_num(matrix / (matrix + BM25_HALF), nan=0.0)
        else:
            floor = np.nanmin(np.where(np.isnan(matrix), np.inf, matrix), axis=1, keepdims=True)
            floor = np.where(np.isfinite(floor), floor, 0.0)  # a list that returned nothing adds nothing
            matrix = np.where(np.isnan(matrix), floor, matrix)
        fused += weight * matrix
    return fused


def product_rankings(chunk_scores: NDArray[np.float64], kb: Kb) -> list[list[int]]:
    """Products ordered by their best chunk's score (ties by chunk order), as benchmarks/retrieval.rank_units."""
    rankings = []
    for row in chunk_scores:
        products: list[int] = []
        for chunk in np.argsort(-row, kind="stable"):
            product = int(kb.chunk_product[chunk])
            if product not in products:
                products.append(product)
        rankings.append(products)
    return rankings


def accuracy(rankings: Sequence[Sequence[int]], gold: Sequence[int]) -> tuple[float, float]:
    top1 = sum(1 for r, g in zip(rankings, gold, strict=True) if r[:1] == [g]) / len(gold)
    top5 = sum(1 for r, g in zip(rankings, gold, strict=True) if g in r[:5]) / len(gold)
    return top1, top5


RUNS: dict[str, tuple[str, dict[str, float]]] = {
    "baseline: plain Lite0 image-to-image (1 view, GAP)": ("rrf", {"baseline_visual": 1.0}),
    "tuned image-to-image alone (7 views)": ("rrf", {"visual": 1.0}),
    "RRF k=60, all four lists unweighted": ("rrf", dict.fromkeys(LISTS, 1.0)),
    "RRF k=60, visual + sparse": ("rrf", RRF_WEIGHTS),
    "weighted scores (recommended)": ("weighted", SCORE_WEIGHTS),
}


def evaluate(kb: Kb, queries: Encoded, gold: Sequence[int], embedder: LocalEmbedder) -> dict[str, tuple[float, float]]:
    scores = list_scores(kb, queries, embedder)
    figures = {}
    for label, (how, weights) in RUNS.items():
        fuse = rrf_chunk_scores if how == "rrf" else weighted_chunk_scores
        figures[label] = accuracy(product_rankings(fuse(scores, weights), kb), gold)
    return figures


# --- main ------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the grocery folder")
    parser.add_argument("--test", action="store_true", help="also report grocery/test (never tune on it)")
    parser.add_argument("--test-limit", type=int, default=None, help="a seeded sample of test photos (default all)")
    parser.add_argument("--cache", type=Path, default=None, help="keep OCR and vectors per split here")
    parser.add_argument("--threads", type=int, default=0, help="torch / onnxruntime threads (0: library default)")
    args = parser.parse_args(argv)

    settings = Settings(data_dir=Path("/tmp/bindesk-grocery"), embedder="local", torch_threads=args.threads)
    embedder = LocalEmbedder(settings)
    baseline = EfficientNetVisualEncoder(recipe=BASELINE_RECIPE, torch_threads=args.threads)
    ocr = RapidOcrReader(cpu_threads=args.threads)
    started = time.perf_counter()
    embedder.warm_up()
    baseline.warm_up()
    ocr.warm_up()
    print(f"models loaded in {time.perf_counter() - started:.1f}s")

    names, descriptions, product_photos = read_products(args.data)
    kb_photos = cached_encode("kb", product_photos, args.cache, embedder, baseline, ocr)
    kb = build_kb(names, descriptions, kb_photos, embedder)
    splits = [("val", None)] + ([("test", args.test_limit)] if args.test else [])
    print(f"\nlists: top {DEPTH} chunks each; product = its best chunk after fusion")
    print(f"RRF (k={RRF_K:g}) weights {RRF_WEIGHTS}")
    print(f"weighted-score fusion: {SCORE_WEIGHTS}, BM25 squashed as s / (s + {BM25_HALF:g})")
    views = ", ".join(f"crop {v.crop:g} at ({v.x:g},{v.y:g})" for v in embedder.visual_encoder.recipe.views)
    print(f"visual recipe: mean of average-pooled Lite0 head over {views}; L2")
    for split, limit in splits:
        photos = read_split(args.data, split, limit)
        suffix = "" if limit is None else f"-{limit}"
        queries = cached_encode(f"{split}{suffix}", photos, args.cache, embedder, baseline, ocr)
        figures = evaluate(kb, queries, [p.product for p in photos], embedder)
        with_text = sum(1 for t in queries.ocr if t.strip())
        print(f"\ngrocery/{split}: {len(photos)} photos vs {len(names)} products ({with_text} with OCR text)")
        for label, (top1, top5) in figures.items():
            print(f"  {label:<52} top-1 {top1:.3f}  top-5 {top5:.3f}")


if __name__ == "__main__":
    main()
