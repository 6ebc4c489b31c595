"""The running pieces the browser tests drive: a milvus-lite server on a port of the web tests' range, the
API (``bindesk serve``) and a Celery worker as child processes, keys made with ``bindesk keys create``, and
Chromium (Debian's, since Playwright's own download is not reachable here).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from core.settings import Settings
from retrieval.lite_server import MilvusLiteServer
from tests.support.services import settings_env

# Ports given to the web tests for milvus-lite servers; each server takes the first free one.
MILVUS_PORTS = range(19630, 19640)
# Redis database number reserved for the web tests.
REDIS_DB = 12
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A fake microphone, so MediaRecorder works without hardware and without a permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MilvusInRange:
    """A milvus-lite server on the first free port of :data:`MILVUS_PORTS`; the context value is its URI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server: MilvusLiteServer | None = None

    def __enter__(self) -> str:
        for port in MILVUS_PORTS:
            if port_is_free(port):
                self.server = MilvusLiteServer(self.root / "data", port, log_path=self.root / "milvus.log")
                self.server.start()
                return self.server.uri
        raise RuntimeError(f"no free port in {MILVUS_PORTS.start}-{MILVUS_PORTS.stop - 1} for milvus-lite")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.server is not None:
            self.server.stop()


def bindesk_executable() -> str:
    return str(Path(sys.executable).with_name("bindesk"))


def create_key(settings: Settings, role: str, workspace: str, name: str = "") -> str:
    """``bindesk keys create``: the key is the last line of its standard output (the documented contract)."""
    result = subprocess.run(
        [bindesk_executable(), "keys", "create", "--role", role, "--workspace", workspace, "--name", name],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


class ApiServer:
    """``bindesk serve`` on a free port, in its own process group; ready once ``/readyz`` answers 200."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        """Launch the process; :meth:`wait_ready` waits for its models to load."""
        env = settings_env(self.settings)
        env.update({"BINDESK_PORT": str(self.port), "BINDESK_HOST": "127.0.0.1"})
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [bindesk_executable(), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, timeout: float = 300.0) -> ApiServer:
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bindesk serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"bindesk serve was not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
