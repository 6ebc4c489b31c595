"""A milvus-lite server of this package's own (ports 19600-19609), so tests may stop and restart it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.lite_server import MilvusLiteServer

PORTS = range(19600, 19610)


def free_port_in_range() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@pytest.fixture(scope="module")
def lite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusLiteServer]:
    root: Path = tmp_path_factory.mktemp("retrieval-milvus")
    server = MilvusLiteServer(root / "data", free_port_in_range(), log_path=root / "server.log")
    with server:
        yield server
