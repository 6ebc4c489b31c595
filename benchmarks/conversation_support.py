"""Answer or escalate on customer-service questions: a product manual and an FAQ, half of each uploaded, every
question asked as a first turn through the product's turn path (:mod:`benchmarks.tune.support_turns` has the
set-up). MTRAG-UN measures the decision on Wikipedia-like conversations; this measures it where the product
lives.

Per set (emanual TV manual, stackfaq FAQs), for the questions whose answering section was uploaded (*held*):
how many the bot answers, and how many of those answers are built on the right section (the gold section among
the three best hits); for the questions whose section was left out (*lacking*): how many the bot still answers.
"Lacking" over-counts wrong answers (a manual says some things twice), so the precision below is a lower bound.
Figures are over the report half of the questions (split by gold section; the other half is for fitting, which
no shipped model has used yet) and over all of them. Baseline in the same run: answering every question.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.harness import EvalStack
from benchmarks.tune.support_turns import SETS, SupportRecord, collect

QUICK_EVERY = 8


def run_support(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    records = collect(stack, root, workdir, every=QUICK_EVERY if quick else 1)
    out: dict[str, Any] = {}
    for name in SETS:
        mine = [r for r in records if r.dataset == name]
        out[name] = {
            "report_half": support_figures([r for r in mine if not r.tune]),
            "all": support_figures(mine),
            "escalation_reasons": dict(Counter(r.reason or "" for r in mine if r.kind == "escalate")),
        }
    return out


def support_figures(records: list[SupportRecord]) -> dict[str, Any]:
    held = [r for r in records if r.held]
    lacking = [r for r in records if not r.held]
    answered = [r for r in records if r.answered]
    right = [r for r in answered if r.held and r.found]
    everything_right = [r for r in held if r.found]  # the baseline's right answers: it answers all
    return {
        "questions": len(records),
        "held": len(held),
        "lacking": len(lacking),
        "answered": len(answered),
        "answered_held": sum(r.answered for r in held),
        "answered_right": len(right),
        "answered_lacking": sum(r.answered for r in lacking),
        "clarified": sum(r.kind == "clarify" for r in records),
        "precision": _share(len(right), len(answered)),
        "recall_held": _share(len(right), len(held)),
        "answer_rate_lacking": _share(sum(r.answered for r in lacking), len(lacking)),
        "baseline_always_answer": {
            "precision": _share(len(everything_right), len(records)),
            "recall_held": _share(len(everything_right), len(held)),
        },
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def print_support(result: dict[str, Any]) -> None:
    print("\nanswer or escalate on support questions (half of each knowledge base uploaded; first turns)")
    for name in SETS:
        part = result.get(name)
        if not part:
            continue
        for scope in ("report_half", "all"):
            f = part[scope]
            base = f["baseline_always_answer"]
            print(
                f"  {name:8s} {scope:11s} {f['questions']:5d} questions ({f['held']} held, {f['lacking']} lacking): "
                f"answered {f['answered']} ({f['answered_right']} on the right section, {f['answered_lacking']} "
                f"lacking); precision >= {f['precision']}, recall on held {f['recall_held']}, "
                f"answers when lacking {f['answer_rate_lacking']} | always answer: precision {base['precision']}, "
                f"recall {base['recall_held']}"
            )
