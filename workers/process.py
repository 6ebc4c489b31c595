"""A Celery worker as a child process, with the parent's settings passed through the environment.

Used by ``bindesk up`` (one machine), the benchmarks and the integration tests. The child gets its own process
group, so stopping (or SIGKILLing, in tests) it takes its pool processes along.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from core.settings import Settings
from workers.celery_app import INGEST_QUEUE

log = logging.getLogger(__name__)

# Settings a child must share with its parent to work on the same data (field name -> how to render it).
_SHARED_FIELDS = (
    "data_dir",
    "database_url",
    "broker_url",
    "result_backend",
    "redis_url",
    "milvus_uri",
    "milvus_token",
    "milvus_lite_port",
    "queue_visibility_timeout",
    "embedder",
    "imagebind_checkpoint",
    "imagebind_config",
    "imagebind_device",
    "imagebind_dtype",
    "whisper_model_dir",
    "torch_threads",
    "chunk_tokens",
    "chunk_overlap_tokens",
    "ingest_max_retries",
    "max_image_pixels",
    "max_ingest_audio_seconds",
    "docx_max_uncompressed_bytes",
    "docx_max_compression_ratio",
    "blob_dir",
)


def settings_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which a child process reads the same settings as ``settings``."""
    env = dict(os.environ if base is None else base)
    for name in _SHARED_FIELDS:
        value = getattr(settings, name)
        key = f"BINDESK_{name.upper()}"
        if value is None or value == "":
            env.pop(key, None)
        else:
            env[key] = str(value)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def worker_argv(concurrency: int) -> list[str]:
    return [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        f"--queues={INGEST_QUEUE}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=bindesk-{uuid.uuid4().hex[:8]}@%h",
    ]


class WorkerProcess:
    def __init__(self, settings: Settings, log_path: Path | None = None, concurrency: int | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.concurrency = concurrency or settings.worker_concurrency
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.tasks:celery_app", *worker_argv(self.concurrency)],
                env=settings_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
            )
        finally:
            if log:
                log.close()
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children) at once."""
        if self.running():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (finish the current task), then kill if it takes longer than ``timeout``."""
        if not self.running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return ""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


SigtermHandler = Callable[[int, FrameType | None], Any] | int | None
"""What ``signal.getsignal(SIGTERM)`` returns: a handler, SIG_DFL / SIG_IGN, or None."""


def stop_cleanly_on_sigterm(children: str, exit_code: int = 0) -> SigtermHandler:
    """Make SIGTERM unwind the caller's ``finally`` blocks, which stop its ``children`` (named in the log line),
    and exit with ``exit_code``; returns the handler that was there before, for the caller to put back.

    With the default handler the process died on the spot and its worker and milvus-lite server (each in its own
    session) were left running: ``bindesk up`` under uvicorn (which re-raises SIGTERM to the handler that was
    there before it; it exits 0, a service stopped as asked), and a benchmark stopped with ``kill``, whose workers
    went on ingesting for nobody (it exits 143, as killed). A second SIGTERM during that cleanup is ignored so the
    cleanup finishes. Only the main thread can set a handler: elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log.info("stopping (SIGTERM): %s", children)
        raise SystemExit(exit_code)

    return signal.signal(signal.SIGTERM, stop)


def restore_sigterm(previous: SigtermHandler) -> None:
    """Put back the handler :func:`stop_cleanly_on_sigterm` returned (nothing when it set none)."""
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)
