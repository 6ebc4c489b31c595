"""Dev script: tune retrieval for the issue-2 targets on the real store, in-process, and print every lever
beside the BM25-alone and dense-alone baselines measured in the same run.

    .venv/bin/python -m benchmarks.retrieval_tune [--port 19605] [--chunk-tokens 64 128 200] [--depth 50]

What it does: starts a milvus-lite server of its own, chunks with the real ``ingest.chunking.make_chunks``,
embeds with all-MiniLM-L6-v2 (bundled weights), upserts through :class:`retrieval.milvus.MilvusVectorStore`,
runs BM25 and dense searches once per question, then scores many fusion settings offline on those lists.

- emanual TV: the 483 questions whose gold came from the answer text; section-level recall@1/5/10 (a chunk
  hit counts for its section: each section is ingested as its own document). Workspaces: whole sections (the
  data README's baseline setting) and chunked at each ``--chunk-tokens``.
- stackfaq: FAQ-level recall@1/5/10 over the 1,374 queries, and over the 1,249 that are real text (125
  queries are a literal "*", a placeholder no retriever can answer, so 0.909 is the ceiling on all 1,374).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.tune.retrieval_dev import DATA, MiniLM, Question, emanual, first_stage, index_corpus, recall, stackfaq
from retrieval.fusion import aggregate, fuse_groups, reciprocal_rank_fusion, score_fusion
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.protocol import Hit

Ranking = Callable[[dict[str, list[Hit]]], list[str]]


# --- rankings compared ----------------------------------------------------------------------------------------


def _units(hits: Sequence[Hit]) -> list[str]:
    return [g.key for g in aggregate(hits, how="max")]


def rankings(depth_cut: int) -> dict[str, Ranking]:
    def cut(lists: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
        return {name: hits[:depth_cut] for name, hits in lists.items()}

    out: dict[str, Ranking] = {
        "bm25 alone": lambda r: _units(cut(r)["sparse"]),
        "dense alone": lambda r: _units(cut(r)["dense"]),
        "chunk RRF k=60 -> max": lambda r: _units(reciprocal_rank_fusion(cut(r), k=60)),
        "section RRF k=60": lambda r: [h.document_id for h in fuse_groups(cut(r), key=_doc, method="rrf")],
    }
    out["section RRF k=10, bm25 x1.5"] = lambda r: [
        h.document_id
        for h in fuse_groups(cut(r), key=_doc, method="rrf", rrf_k=10, weights={"sparse": 1.5, "dense": 1.0})
    ]
    for w in (0.3, 0.4, 0.5):
        out[f"chunk score bm25={w} -> max"] = _chunk_score(cut, w)
        out[f"section score bm25={w}"] = _section_score(cut, w)
    return out


Cut = Callable[[dict[str, list[Hit]]], dict[str, list[Hit]]]


def _chunk_score(cut: Cut, bm25_weight: float) -> Ranking:
    weights = {"sparse": bm25_weight, "dense": 1 - bm25_weight}
    return lambda r: _units(score_fusion(cut(r), weights=weights))


def _section_score(cut: Cut, bm25_weight: float) -> Ranking:
    weights = {"sparse": bm25_weight, "dense": 1 - bm25_weight}
    return lambda r: [h.document_id for h in fuse_groups(cut(r), key=_doc, method="score", weights=weights)]


def _doc(hit: Hit) -> str:
    return hit.document_id


def report(label: str, lists: list[dict[str, list[Hit]]], questions: Sequence[Question], depth: int) -> None:
    real = [i for i, q in enumerate(questions) if re.search(r"\w", q.text)]
    ranked_by = dict(rankings(depth))
    for cut_depth in (10, 20, 100):
        if cut_depth < depth:
            ranked_by[f"section score bm25=0.4, depth {cut_depth}"] = rankings(cut_depth)["section score bm25=0.4"]
    for name, rank in ranked_by.items():
        ranked = [rank(r) for r in lists]
        line = " ".join(f"R@{k} {recall(ranked, questions, k):.3f}" for k in (1, 5, 10))
        if len(real) < len(questions):
            sub = [ranked[i] for i in real]
            qs = [questions[i] for i in real]
            line += f" | real text only ({len(real)}): R@5 {recall(sub, qs, 5):.3f}"
        print(f"  {label:28s} {name:30s} {line}", flush=True)


# --- main ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--port", type=int, default=19605)
    parser.add_argument("--chunk-tokens", type=int, nargs="+", default=[64, 128, 200])
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--only", choices=["emanual", "stackfaq"], default=None)
    parser.add_argument("--overlap", type=int, default=None, help="overlap tokens (default: a quarter of the size)")
    parser.add_argument("--sizes-only", action="store_true", help="skip the whole-unit and no-prefix workspaces")
    args = parser.parse_args()

    model = MiniLM()
    corpora = [c for c in (emanual(args.data), stackfaq(args.data)) if args.only in (None, c.name)]
    with (
        tempfile.TemporaryDirectory(prefix="bindesk-tune-") as tmp,
        MilvusLiteServer(Path(tmp) / "milvus", args.port) as server,
    ):
        store = MilvusVectorStore(server.uri, backend="tune", dense_dim=384, visual_dim=8)
        store.ensure_collection()
        for corpus in corpora:
            print(f"{corpus.name}: {len(corpus.unit_ids)} units, {len(corpus.questions)} questions", flush=True)
            settings: list[tuple[str, int | None, bool]] = [] if args.sizes_only else [("whole units", None, True)]
            settings += [(f"chunks {t} tok", t, True) for t in args.chunk_tokens]
            if not args.sizes_only:
                settings += [(f"chunks {args.chunk_tokens[0]} tok, no prefix", args.chunk_tokens[0], False)]
            for label, tokens, prefix in settings:
                workspace = f"{corpus.name}_{tokens or 'whole'}_{int(prefix)}"
                started = time.perf_counter()
                n = index_corpus(store, corpus, workspace, model, tokens, args.overlap, prefix=prefix)
                lists = first_stage(store, workspace, corpus.questions, model, args.depth)
                print(f"  [{label}: {n} chunks, {time.perf_counter() - started:.0f}s]", flush=True)
                report(label, lists, corpus.questions, args.depth)
        store.close()


if __name__ == "__main__":
    main()
