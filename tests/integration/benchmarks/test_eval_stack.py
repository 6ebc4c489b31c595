"""The benchmarks' stack (milvus-lite server, database, a Celery worker) stops with its benchmark, also when the
benchmark is stopped with SIGTERM (``kill``): a killed ``bindesk eval`` had left its worker ingesting and its vector
server running, competing with the next run for the machine's two cores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
HOLD_THE_STACK = """
import json, sys, time
from benchmarks.harness import eval_stack
with eval_stack(workers=1) as stack:
    worker = stack._worker.process.pid
    print(json.dumps({"milvus": stack.milvus._process.pid, "worker": worker, "root": str(stack.root)}), flush=True)
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that has exited but was not yet reaped by its (gone) parent is a zombie: not running.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_sigterm_stops_the_benchmark_s_worker_and_vector_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_STACK], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        children = json.loads(line)
        assert alive(children["milvus"]) and alive(children["worker"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (alive(children["milvus"]) or alive(children["worker"])):
        time.sleep(0.2)
    assert not alive(children["milvus"]), "the vector server outlived its benchmark"
    assert not alive(children["worker"]), "the Celery worker outlived its benchmark"
    assert not Path(children["root"]).exists(), "the benchmark's scratch directory was left behind"
