"""``bindesk eval retrieval``: the knowledge-base retrieval figures of issue 2, each beside its baselines
(BM25 alone, dense alone, EfficientNet image-to-image) measured on the same index in the same run.

- emanual TV: section-level recall@1/5/10 over the 483 questions whose gold came from the answer text.
- stackfaq: FAQ-level recall@1/5 over the 1,374 paraphrased queries.
- grocery: product-level top-1/top-5 for in-store photos (400 sampled from test/) against the 81 products.
- ingest throughput (chunks/s through Celery) for the TV manual plus the 38 distractor manuals, and search
  latency p50/p95 at that size.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import datasets as ds
from benchmarks.harness import EvalStack
from core.media import load_image
from kb.search import RetrievalQuery, retrieve
from retrieval.fusion import aggregate
from retrieval.protocol import Hit

DEPTH = 50  # chunks retrieved per query before rolling up to sections/documents
Ranker = Callable[[str], list[Hit]]


def recall_at(ranked: Sequence[Sequence[str]], gold: Sequence[frozenset[str]], k: int) -> float:
    hits = sum(1 for r, g in zip(ranked, gold, strict=True) if g & set(r[:k]))
    return hits / len(gold) if gold else 0.0


def rank_units(hits: Sequence[Hit], unit_of: Callable[[Hit], str | None]) -> list[str]:
    """Chunk hits rolled up to units (sections, FAQs, products), best first, by each unit's best chunk."""
    kept = [h for h in hits if unit_of(h) is not None]
    return [g.key for g in aggregate(kept, key=lambda h: unit_of(h) or "", how="max")]


def rankers(stack: EvalStack, workspace: str) -> dict[str, Ranker]:
    runtime = stack.runtime
    store, embedder = runtime.store, runtime.embedder

    def bm25(text: str) -> list[Hit]:
        return store.search(workspace, "sparse", text, DEPTH)

    def dense(text: str) -> list[Hit]:
        return store.search(workspace, "dense", embedder.embed_texts([text])[0], DEPTH)

    def bindesk(text: str) -> list[Hit]:
        return retrieve(runtime, workspace, RetrievalQuery(text=text), DEPTH)

    return {"bm25": bm25, "dense": dense, "bindesk": bindesk}


def evaluate_text(
    stack: EvalStack,
    workspace: str,
    questions: Sequence[ds.Question],
    unit_of: Callable[[Hit], str | None],
    ks: Sequence[int],
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    gold = [q.gold for q in questions]
    for name, ranker in rankers(stack, workspace).items():
        ranked = [rank_units(ranker(q.text), unit_of) for q in questions]
        out[name] = {f"recall@{k}": round(recall_at(ranked, gold, k), 4) for k in ks}
    return out


def section_mapper(stack: EvalStack, workspace: str, sections: Sequence[ds.Section]) -> Callable[[Hit], str | None]:
    """Chunk id -> TV section id: the section with the chunk's heading whose text holds the chunk's body."""
    by_title: dict[str, list[ds.Section]] = {}
    for s in sections:
        by_title.setdefault(ds.norm_space(s.title).lower(), []).append(s)
    texts = {s.section_id: ds.norm_space(s.text) for s in sections}
    mapping: dict[str, str] = {}
    for chunk in stack.chunks(workspace):
        heading = ds.norm_space(chunk.heading_path[-1]).lower() if chunk.heading_path else ""
        body = ds.norm_space(chunk.text)
        candidates = by_title.get(heading, [])
        probe = body[:120]
        match = next((s for s in candidates if probe and probe in texts[s.section_id]), None)
        if match is None and len(candidates) == 1:
            match = candidates[0]
        if match is not None:
            mapping[chunk.id] = match.section_id
    return lambda h: mapping.get(h.chunk_id)


def faq_mapper(stack: EvalStack, workspace: str, by_question: dict[str, str]) -> Callable[[Hit], str | None]:
    mapping: dict[str, str] = {}
    for chunk in stack.chunks(workspace):
        words = ds.norm_space(" ".join([*chunk.heading_path, chunk.title, chunk.text])).lower()
        for question, faq_id in by_question.items():
            if question in words:
                mapping[chunk.id] = faq_id
                break
    return lambda h: mapping.get(h.chunk_id)


def run_emanual(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    workspace = "emanual"
    files = [ds.write_tv_manual(root, workdir)]
    if not quick:
        files += ds.write_distractor_manuals(root, workdir)
    report = stack.ingest(workspace, files)
    sections = ds.tv_sections(root)
    questions = ds.tv_questions(root)
    if quick:
        questions = questions[::8]
    unit_of = section_mapper(stack, workspace, sections)
    figures = evaluate_text(stack, workspace, questions, unit_of, ks=(1, 5, 10))
    latencies = _latencies(stack, workspace, [q.text for q in questions[:200]])
    return {
        "questions": len(questions),
        "recall": figures,
        "ingest": {
            "documents": report.documents,
            "chunks": report.chunks,
            "seconds": round(report.seconds, 1),
            "chunks_per_second": round(report.chunks_per_second, 2),
            "failed": report.failed,
        },
        "search_latency_ms": latencies,
    }


def _latencies(stack: EvalStack, workspace: str, texts: Sequence[str]) -> dict[str, float]:
    runtime = stack.runtime
    timings = []
    for text in texts:
        started = time.perf_counter()
        retrieve(runtime, workspace, RetrievalQuery(text=text), 10)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50": round(statistics.median(timings), 1),
        "p95": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "queries": len(timings),
    }


def run_stackfaq(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    workspace = "stackfaq"
    path, by_question, queries = ds.write_stackfaq(root, workdir)
    stack.ingest(workspace, [path])
    if quick:
        queries = queries[::10]
    figures = evaluate_text(stack, workspace, queries, faq_mapper(stack, workspace, by_question), ks=(1, 5))
    return {"queries": len(queries), "recall": figures}


def run_grocery(stack: EvalStack, root: Path, workdir: Path, quick: bool, split: str = "test") -> dict[str, Any]:
    workspace = "grocery"
    products = ds.grocery_products(root)
    report = stack.ingest(workspace, ds.write_grocery_kb(products, workdir))
    names = {p.name: p.class_id for p in products}
    docs = {d.id: names.get(Path(d.filename).stem) for d in stack.documents(workspace)}

    def unit_of(hit: Hit) -> str | None:
        cid = docs.get(hit.document_id)
        return None if cid is None else str(cid)

    runtime = stack.runtime
    queries = ds.grocery_queries(root, split, 40 if quick else 400)
    ranked_bindesk, ranked_visual, gold = [], [], []
    for photo, class_id in queries:
        image = load_image(photo.read_bytes(), max_pixels=runtime.settings.max_image_pixels)
        ocr_text = runtime.ocr.read(image).text
        hits = retrieve(runtime, workspace, RetrievalQuery(text=ocr_text, image=image, ocr_text=ocr_text), DEPTH)
        ranked_bindesk.append(rank_units(hits, unit_of))
        visual = runtime.embedder.embed_images([image], [ocr_text]).visual[0]
        ranked_visual.append(rank_units(runtime.store.search(workspace, "visual", visual, DEPTH, ["image"]), unit_of))
        gold.append(frozenset([str(class_id)]))
    figures = {
        name: {f"top{k}": round(recall_at(r, gold, k), 4) for k in (1, 5)}
        for name, r in (("image_to_image", ranked_visual), ("bindesk", ranked_bindesk))
    }
    return {"split": split, "queries": len(queries), "kb_documents": report.documents, "accuracy": figures}


def run(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, suite in (("emanual", run_emanual), ("stackfaq", run_stackfaq), ("grocery", run_grocery)):
        sub = workdir / name
        sub.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        results[name] = suite(stack, root, sub, quick)
        results[name]["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


BASELINES = {
    "emanual": "data README (whole sections, rank-bm25 + MiniLM, RRF): BM25 0.658, dense 0.609, fused 0.692 @5; "
    "Haystack hybrid 0.739 @5 (split)",
    "stackfaq": "data README: BM25 0.803, dense 0.908, fused 0.872 @5",
    "grocery": "data README: EfficientNet-Lite0 image-to-image top-1 0.280 / top-5 0.675",
}


def print_report(results: dict[str, Any]) -> None:
    e = results.get("emanual")
    if e:
        print(f"\nemanual TV ({e['questions']} questions), section-level recall")
        for name, figs in e["recall"].items():
            print(f"  {name:<10} " + "  ".join(f"{k} {v:.3f}" for k, v in figs.items()))
        print(f"  reference: {BASELINES['emanual']}")
        i = e["ingest"]
        print(
            f"  ingest: {i['documents']} documents, {i['chunks']} chunks in {i['seconds']}s = "
            f"{i['chunks_per_second']} chunks/s through Celery; failed: {len(i['failed'])}"
        )
        lat = e["search_latency_ms"]
        print(f"  search latency at that size: p50 {lat['p50']} ms, p95 {lat['p95']} ms ({lat['queries']} queries)")
    s = results.get("stackfaq")
    if s:
        print(f"\nstackfaq ({s['queries']} queries), FAQ-level recall")
        for name, figs in s["recall"].items():
            print(f"  {name:<10} " + "  ".join(f"{k} {v:.3f}" for k, v in figs.items()))
        print(f"  reference: {BASELINES['stackfaq']}")
    g = results.get("grocery")
    if g:
        print(f"\ngrocery {g['split']} ({g['queries']} photos vs 81 products)")
        for name, figs in g["accuracy"].items():
            print(f"  {name:<15} " + "  ".join(f"{k} {v:.3f}" for k, v in figs.items()))
        print(f"  reference: {BASELINES['grocery']}")
