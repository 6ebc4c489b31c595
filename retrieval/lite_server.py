"""Run the embedded vector store: a ``milvus-lite server`` child process that owns one data directory.

milvus-lite 3.2 locks its data directory, so exactly one process may open it; the API and the workers
connect to that process over gRPC like to any Milvus (``http://127.0.0.1:PORT``), which keeps one code path
for the embedded default and a real cluster.

    with MilvusLiteServer(data_dir, port=19540) as server:
        store = MilvusVectorStore(server.uri, backend="local", dense_dim=384, visual_dim=1280)

Stopping sends SIGINT (the server's own graceful path: drain requests, close the database, release the
lock), then SIGKILL if it does not exit in time; milvus-lite's write-ahead log makes even a kill safe.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from core.errors import ServiceUnavailable

LOG_TAIL_BYTES = 4000


def _milvus_lite_executable() -> str:
    """The ``milvus-lite`` script of the running interpreter's environment (then ``PATH``)."""
    beside = Path(sys.executable).parent / "milvus-lite"
    if beside.exists():
        return str(beside)
    found = shutil.which("milvus-lite")
    if found is None:
        raise ServiceUnavailable("milvus-lite is not installed in this environment (pip install milvus-lite)")
    return found


# Runs the server with SIGINT handled again. A process started in the background by a shell (``bindesk up &``,
# nohup) has SIGINT ignored, children inherit an ignored signal across exec, and SIGINT is how the server is
# asked to stop cleanly: it then ignored it and was killed after ``stop_timeout``.
_EXEC_WITH_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)


def wait_for_milvus(uri: str, timeout: float = 30.0, token: str = "") -> None:
    """Block until a Milvus at ``uri`` answers a request, or raise :class:`ServiceUnavailable`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            _probe(uri, token, timeout=max(0.5, min(3.0, deadline - time.monotonic())))
            return
        except Exception as exc:  # any failure means "not yet"; the last one is reported
            last_error = exc
            time.sleep(0.2)
    raise ServiceUnavailable(f"Milvus at {uri} did not answer within {timeout:.0f}s: {last_error}")


def _probe(uri: str, token: str, timeout: float) -> None:
    from pymilvus import MilvusClient  # imported here: the CLI imports this module before it needs pymilvus

    from retrieval.milvus import GRPC_OPTIONS

    client = MilvusClient(uri=uri, token=token, timeout=timeout, grpc_options=GRPC_OPTIONS)
    try:
        client.list_collections(timeout=timeout)
    finally:
        client.close()


class MilvusLiteServer:
    """A ``milvus-lite server`` child process bound to ``host:port`` and owning ``data_dir``.

    The server's output goes to ``log_path`` (default: ``<data_dir>.log`` beside the data directory), whose
    tail is quoted in the error when the server dies or never answers.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.host = host
        self.log_path = log_path or self.data_dir.with_name(self.data_dir.name + ".log")
        self.exit_code: int | None = None  # the server's exit status once stopped
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self._process is not None and self.is_running() else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Spawn the server and return once a client can use it; raise with the log tail if it cannot."""
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 -- lives as long as the child process
        executable = _milvus_lite_executable()
        command = [
            sys.executable,
            "-c",
            _EXEC_WITH_SIGINT,
            executable,  # sys.argv[1] of the -c program: the file it executes, and the server's argv[0]
            "server",
            "--data-dir",
            str(self.data_dir),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the parent's terminal must not skip our graceful stop
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                self._close_log()
                self._process = None
                raise ServiceUnavailable(
                    f"milvus-lite server on port {self.port} exited with code {code} while starting; "
                    f"log tail ({self.log_path}):\n{self.log_tail()}"
                )
            try:
                _probe(self.uri, "", timeout=2.0)
                return
            except Exception as exc:
                last_error = exc
                time.sleep(0.25)
        self.stop()
        raise ServiceUnavailable(
            f"milvus-lite server on port {self.port} did not answer within {self.start_timeout:.0f}s "
            f"({last_error}); log tail ({self.log_path}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Graceful stop (SIGINT: the server closes its database), then SIGKILL after ``stop_timeout``;
        :attr:`exit_code` then says which (0: it stopped cleanly)."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process is not None:
            self.exit_code = process.returncode
        self._process = None
        self._close_log()

    def log_tail(self, max_bytes: int = LOG_TAIL_BYTES) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - max_bytes))
                return fh.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MilvusLiteServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
