"""The embedded vector server: starts, answers, keeps its data across a restart, and explains a failed start."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from core.errors import ServiceUnavailable
from core.ids import chunk_id
from retrieval.lite_server import MilvusLiteServer, wait_for_milvus
from retrieval.milvus import MilvusVectorStore
from retrieval.protocol import ChunkRecord
from tests.integration.retrieval.conftest import free_port_in_range

pytestmark = pytest.mark.integration


def _records(workspace: str, n: int) -> list[ChunkRecord]:
    rng = np.random.default_rng(0)
    return [
        ChunkRecord(
            id=chunk_id(workspace, "doc", 1, i),
            workspace_id=workspace,
            document_id="doc",
            version=1,
            ordinal=i,
            modality="text",
            source="doc.txt",
            title="Doc",
            heading="",
            page=None,
            text=f"persistent paragraph {i} mentions the word albatross",
            dense=rng.normal(size=8).tolist(),
            visual=None,
        )
        for i in range(n)
    ]


def test_restarting_the_server_keeps_the_data(tmp_path: Path) -> None:
    server = MilvusLiteServer(tmp_path / "data", free_port_in_range(), log_path=tmp_path / "server.log")
    with server:
        assert server.is_running()
        store = MilvusVectorStore(server.uri, backend="restart", dense_dim=8, visual_dim=4)
        store.ensure_collection()
        store.upsert("ws", _records("ws", 7))
        store.close()
    assert not server.is_running()

    with server:
        wait_for_milvus(server.uri, timeout=10)
        store = MilvusVectorStore(server.uri, backend="restart", dense_dim=8, visual_dim=4)
        store.ensure_collection()
        assert store.count("ws") == 7
        assert len(store.search("ws", "sparse", "albatross", 10)) == 7
        store.close()


def test_a_second_server_on_the_same_data_dir_fails_with_its_log(tmp_path: Path) -> None:
    first = MilvusLiteServer(tmp_path / "data", free_port_in_range(), log_path=tmp_path / "first.log")
    with first:
        second = MilvusLiteServer(
            tmp_path / "data", free_port_in_range(), log_path=tmp_path / "second.log", start_timeout=30
        )
        with pytest.raises(ServiceUnavailable, match="log tail") as failed:
            second.start()
        assert not second.is_running()
        assert "lock" in failed.value.message.lower()
        assert first.is_running()


def test_waiting_for_nothing_times_out_clearly() -> None:
    with pytest.raises(ServiceUnavailable, match="did not answer"):
        wait_for_milvus(f"http://127.0.0.1:{free_port_in_range()}", timeout=1.5)


def test_a_server_started_where_ctrl_c_is_ignored_still_stops_cleanly(tmp_path: Path) -> None:
    """``bindesk up &`` (or nohup) runs with SIGINT ignored, and children inherit that; SIGINT is the server's
    clean stop, so it used to be ignored and the server killed after the stop timeout."""
    server = MilvusLiteServer(tmp_path / "data", free_port_in_range(), log_path=tmp_path / "server.log")
    server.stop_timeout = 10.0
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        server.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    store = MilvusVectorStore(server.uri, backend="sigint", dense_dim=8, visual_dim=4)
    store.ensure_collection()
    store.upsert("ws", _records("ws", 3))
    store.close()
    server.stop()
    assert server.exit_code == 0, server.log_tail()  # stopped by its own clean shutdown, not killed
