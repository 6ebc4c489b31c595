"""The ingest path through a real Celery worker on Redis with PostgreSQL: delivery twice, re-upload, and a
worker killed with SIGKILL in the middle of a task."""

from __future__ import annotations

import time

import pytest

from tests.integration.ingest.conftest import CeleryWorld
from workers.queue import TaskQueue

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GUIDE = b"""# Router guide

## Resetting the router
Hold the reset button on the back of the router for ten seconds until the lights blink amber.

## Changing the Wi-Fi password
Open the admin page at 192.168.0.1, choose Wireless, then Security, and type the new passphrase.
"""


def _long_manual(sections: int = 300) -> bytes:
    parts = ["# Appliance handbook", ""]
    for n in range(sections):
        parts += [
            f"## Procedure {n}: calibrating module {n}",
            "",
            f"Step one for module {n}: remove the cover, loosen screw {n}, and wait for the indicator. " * 6,
            "",
        ]
    return "\n".join(parts).encode()


def test_upload_is_indexed_by_the_worker_and_searchable(celery_world: CeleryWorld) -> None:
    ops = celery_world.ops
    response = ops.upload(("router.md", GUIDE))
    assert response.status_code == 202
    doc = ops.wait_done(response.json()[0]["id"])
    assert doc["status"] == "indexed", doc["error"]
    assert ops.vector_count(doc["id"]) == doc["chunks"] == ops.chunk_rows(doc["id"]) > 0
    hits = ops.search("how do I change the wifi password", k=3)
    assert hits[0]["source"] == "router.md" and "passphrase" in hits[0]["snippet"]


def test_duplicate_delivery_changes_nothing(celery_world: CeleryWorld) -> None:
    ops = celery_world.ops
    doc = ops.wait_done(ops.upload(("twice.md", GUIDE.replace(b"Router", b"Modem"))).json()[0]["id"])
    queue = TaskQueue(ops.settings)
    queue.enqueue_ingest(doc["id"])
    queue.enqueue_ingest(doc["id"])
    # One worker takes tasks in order: once a document queued after the duplicates is done, they are done too.
    sentinel = ops.wait_done(ops.upload(("sentinel.md", b"# Sentinel\n\nA later document.\n")).json()[0]["id"])
    assert sentinel["status"] == "indexed"
    after = ops.document(doc["id"])
    assert after["status"] == "indexed" and after["version"] == doc["version"]
    assert ops.vector_count(doc["id"]) == after["chunks"] == doc["chunks"] == ops.chunk_rows(doc["id"])


def test_reupload_replaces_chunks_through_the_worker(celery_world: CeleryWorld) -> None:
    ops = celery_world.ops
    first = ops.wait_done(ops.upload(("faq-v.md", GUIDE)).json()[0]["id"])
    changed = GUIDE + b"\n## Updating the firmware\nChoose Administration, then Firmware, then Check for updates.\n"
    second = ops.wait_done(ops.upload(("faq-v.md", changed)).json()[0]["id"])
    assert second["version"] == first["version"] + 1 and second["status"] == "indexed"
    assert ops.vector_count(second["id"]) == second["chunks"] == ops.chunk_rows(second["id"])
    assert second["chunks"] > first["chunks"]


def test_worker_killed_mid_task_leaves_the_document_indexed_exactly_once(celery_world: CeleryWorld) -> None:
    ops = celery_world.ops
    document_id = ops.upload(("handbook.md", _long_manual())).json()[0]["id"]
    deadline = time.monotonic() + 600
    while ops.document(document_id)["status"] != "processing":
        assert time.monotonic() < deadline, "the worker never started the task"
        time.sleep(0.05)
    celery_world.worker.kill()
    assert ops.document(document_id)["status"] == "processing"  # killed before it could finish

    celery_world.restart_worker()
    doc = ops.wait_done(document_id, timeout=900)
    assert doc["status"] == "indexed", doc["error"]
    assert ops.vector_count(document_id) == doc["chunks"] == ops.chunk_rows(document_id) > 100
    hits = ops.search("calibrating module 217", k=3)
    assert hits[0]["source"] == "handbook.md"
