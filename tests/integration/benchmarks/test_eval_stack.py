"""The benchmarks' stack (milvus-lite server, database, a Celery worker) stops with its benchmark, also when the
benchmark is stopped with SIGTERM (``kill``): a killed ``bindesk eval`` had left its worker ingesting and its vector
server running, competing with the next run for the machine's two cores."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
HOLD_THE_STACK = """
import json, time
from benchmarks.harness import eval_stack
with eval_stack(workers=1) as stack:
    print(json.dumps({**stack.child_pids(), "root": str(stack.root)}), flush=True)
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


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready else ""


def test_sigterm_stops_the_benchmark_s_worker_and_vector_server(tmp_path: Path) -> None:
    errors = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_STACK], cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True
    )
    children: dict[str, int | str] = {}
    try:
        line = first_line(process, timeout=120)
        assert line, (tmp_path / "stderr.log").read_text()[-3000:]
        children = json.loads(line)
        milvus, worker = int(children["milvus"]), int(children["worker"])
        assert alive(milvus) and alive(worker)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 143  # killed, and says so
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (alive(milvus) or alive(worker)):
            time.sleep(0.2)
        assert not alive(milvus), "the vector server outlived its benchmark"
        assert not alive(worker), "the Celery worker outlived its benchmark"
        assert not Path(str(children["root"])).exists(), "the benchmark's scratch directory was left behind"
    finally:
        errors.close()
        if process.poll() is None:
            process.kill()
        for name in ("milvus", "worker"):  # whatever failed above, leave nothing running (each has its own group)
            if isinstance(children.get(name), int) and alive(int(children[name])):
                os.killpg(int(children[name]), signal.SIGKILL)
        if "root" in children:
            shutil.rmtree(str(children["root"]), ignore_errors=True)
