"""``bindesk eval SUITE``: run a benchmark suite, print it beside its baselines, save JSON under benchmarks/out/."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import datasets as ds

OUT_DIR = Path(__file__).resolve().parent / "out"
SUITES = ("retrieval", "conversation")


def run_suite(suite: str, *, data_dir: str | None, as_json: bool, quick: bool, only: Sequence[str] = ()) -> int:
    """Run ``suite`` (or all); ``only`` narrows a suite to some of its parts."""
    if suite not in (*SUITES, "all"):
        print(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)} or all", file=sys.stderr)
        return 2
    parts = _parts()
    suites = SUITES if suite == "all" else (suite,)
    known = [p for name in suites for p in parts[name]]
    unknown = sorted(set(only) - set(known))
    if unknown:
        print(f"unknown part(s) {', '.join(unknown)}; {suite} has {', '.join(known)}", file=sys.stderr)
        return 2
    try:
        root = ds.data_root(data_dir)
    except FileNotFoundError as exc:
        print(
            f"{exc}; pass --data DIR (the benchmarks read the shared data sets, see benchmarks/RESULTS.md)",
            file=sys.stderr,
        )
        return 2
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick}
    for name in suites:
        started = time.perf_counter()
        chosen = [p for p in parts[name] if p in only] if only else list(parts[name])
        if not chosen:
            continue
        results[name] = _run_one(name, root, quick, chosen)
        results[name]["wall_seconds"] = round(time.perf_counter() - started, 1)
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"{suite}-{datetime.now(UTC):%Y%m%dT%H%M%S}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(results, indent=2))
    if as_json:
        print(json.dumps(results))
    else:
        _print(results)
        print(f"\nsaved {path}")
    return 0


def _parts() -> dict[str, Sequence[str]]:
    from benchmarks import conversation, retrieval

    return {"retrieval": retrieval.PARTS, "conversation": conversation.PARTS}


def _run_one(name: str, root: Path, quick: bool, parts: Sequence[str]) -> dict[str, Any]:
    from benchmarks.harness import eval_stack

    with tempfile.TemporaryDirectory(prefix="bindesk-kb-") as work, eval_stack() as stack:
        if name == "retrieval":
            from benchmarks import retrieval

            return retrieval.run(stack, root, Path(work), quick, parts)
        from benchmarks import conversation

        return conversation.run(stack, root, Path(work), quick, parts)


def _print(results: dict[str, Any]) -> None:
    if "retrieval" in results:
        from benchmarks import retrieval

        retrieval.print_report(results["retrieval"])
    if "conversation" in results:
        from benchmarks import conversation

        conversation.print_report(results["conversation"])
