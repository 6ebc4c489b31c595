"""Collect the turn path's answerability evidence on customer-service questions whose answer the knowledge base
holds or lacks, for calibrating the answer-or-escalate decision beyond MTRAG-UN (session 10 tried a joint fit with
a scratch script: benchmarks/RESULTS.md, section 2; not shipped) and for measuring it (``bindesk eval conversation
--only support``).

    .venv/bin/python -m benchmarks.tune.support_turns [--out /tmp/bindesk-support-turns.pkl]

MTRAG-UN's conversations are about Wikipedia, government pages and cloud documentation; a support knowledge base
is a product manual and an FAQ, and its customers ask short questions ("What does E40 mean?"). Two such sets are
in ``../shared/data``, each with the section or FAQ that answers each question:

- emanual: the Samsung TV e-manual and the 458 questions whose gold section came from a real answer text;
- stackfaq: 125 web-app FAQs and the 1,249 paraphrased questions that are words.

Leave-half-out: a fixed half of the sections (and of the FAQs), chosen by a hash of their ids, is uploaded
through the real ingest path; every question is asked as a conversation's first turn through the product's turn
path (:mod:`benchmarks.conversation_replay`). A question whose gold section was uploaded is *held* (the knowledge
base answers it); one whose gold section was left out is *lacking*. "Lacking" is a lower bound on unanswerable:
a manual says some things twice, so another section may still answer it.

Questions are split in halves by a hash of their gold section (so paraphrases of one FAQ stay together): a fit
uses the tune half only; the benchmark reports on the other.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import datasets as ds
from benchmarks.conversation_replay import answer_asked, ask, start
from benchmarks.harness import EvalStack, eval_stack
from benchmarks.retrieval import faq_mapper, section_mapper
from core.db import session_scope
from retrieval.protocol import Hit

SETS = ("emanual", "stackfaq")


@dataclass
class SupportRecord:
    dataset: str  # "emanual" or "stackfaq"
    question_id: str
    question: str
    held: bool  # the gold section (or FAQ) is in the knowledge base
    tune: bool  # in the tune half (fit and thresholds); the other half is reported
    features: dict[str, float]  # Evidence.features ({} when the policy screen stopped the turn first)
    kind: str  # what the customer got with the shipped thresholds: answer, clarify or escalate
    reason: str | None
    gold: frozenset[str]  # the sections / FAQs that answer it
    top_units: tuple[str, ...]  # the sections / FAQs of the best three hits, best first ("" for an unmapped hit)

    @property
    def answered(self) -> bool:
        return self.kind == "answer"

    @property
    def found(self) -> bool:
        """The gold section is among the best three hits (what the answer is built from)."""
        return bool(self.gold & set(self.top_units))


def in_kept_half(unit_id: str) -> bool:
    """The fixed half of sections / FAQs that is uploaded."""
    return hashlib.sha1(f"kept:{unit_id}".encode()).digest()[0] % 2 == 0


def in_tune_half(gold: Iterable[str]) -> bool:
    """The fixed half of questions used for fitting, by their (first) gold unit: paraphrases stay together."""
    return hashlib.sha1(f"tune:{min(gold)}".encode()).digest()[0] % 2 == 0


def write_half_tv_manual(root: Path, out: Path) -> tuple[Path, frozenset[str]]:
    """The TV e-manual with only the kept half of its sections; returns it and the kept section ids."""
    kept = [s for s in ds.tv_sections(root) if in_kept_half(s.section_id)]
    return ds.write_tv_manual(root, out, kept), frozenset(s.section_id for s in kept)


def write_half_stackfaq(root: Path, out: Path) -> tuple[Path, frozenset[str], list[ds.Question], dict[str, str]]:
    """The kept half of the FAQs as one JSONL FAQ file; returns it, the kept FAQ ids, the worded questions and
    every FAQ's question text -> its id."""
    path, by_question, queries = ds.write_stackfaq(root, out, keep=in_kept_half)
    worded = [q for q in queries if q.text and any(c.isalnum() for c in q.text)]
    return path, frozenset(f for f in by_question.values() if in_kept_half(f)), worded, by_question


def collect(stack: EvalStack, root: Path, workdir: Path, every: int = 1) -> list[SupportRecord]:
    """Upload the kept halves (one workspace per set) and ask every ``every``-th question as a first turn."""
    manual, kept_sections = write_half_tv_manual(root, workdir)
    faq, kept_faqs, faq_questions, by_question = write_half_stackfaq(root, workdir)
    tv_questions = [q for q in ds.tv_questions(root) if ds.has_answer_text(q)]
    mappers: dict[str, Callable[[str], Callable[[Hit], str | None]]] = {
        "emanual": lambda workspace: section_mapper(stack, workspace, ds.tv_sections(root)),
        "stackfaq": lambda workspace: faq_mapper(stack, workspace, by_question),
    }
    plan = (
        ("emanual", manual, kept_sections, tv_questions),
        ("stackfaq", faq, kept_faqs, faq_questions),
    )
    records: list[SupportRecord] = []
    for name, path, kept, questions in plan:
        workspace = f"support-{name}"
        report = stack.ingest(workspace, [path])
        print(f"{name}: {report.chunks} chunks of {len(kept)} kept units in {report.seconds:.0f}s", flush=True)
        unit_of = mappers[name](workspace)
        for question in questions[::every]:
            with session_scope(stack.settings) as session:
                replay = start(session, workspace)
                asked = ask(stack.runtime, session, replay, question.text)
                outcome = answer_asked(stack.runtime, session, replay, asked)
                session.rollback()  # nothing of the replay is kept
            hits = asked.evidence.hits if asked.evidence is not None else []
            records.append(
                SupportRecord(
                    name,
                    question.id,
                    question.text,
                    bool(question.gold & kept),
                    in_tune_half(question.gold),
                    dict(asked.evidence.features) if asked.evidence is not None else {},
                    outcome.kind,
                    outcome.reason,
                    question.gold,
                    tuple(unit_of(h) or "" for h in hits[:3]),
                )
            )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bindesk-support-turns.pkl")
    args = parser.parse_args()
    with eval_stack() as stack, tempfile.TemporaryDirectory() as tmp:
        records = collect(stack, ds.DEFAULT_DATA, Path(tmp))
    with args.out.open("wb") as sink:
        pickle.dump(records, sink)
    for name in SETS:
        mine = [r for r in records if r.dataset == name]
        held = [r for r in mine if r.held]
        lacking = [r for r in mine if not r.held]
        answered = [r for r in mine if r.kind == "answer"]
        print(
            f"{name}: {len(held)} held, {len(lacking)} lacking; answered {sum(r.kind == 'answer' for r in held)} held, "
            f"{sum(r.kind == 'answer' for r in lacking)} lacking ({len(answered)} answers)"
        )
    print(f"wrote {len(records)} records to {args.out}")


if __name__ == "__main__":
    main()
