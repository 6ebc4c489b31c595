"""``bindesk ingest``: files and folders into the knowledge base, with a progress bar.

In-process (default) every file is stored, parsed and indexed here, one after another; with ``--url`` the
files are uploaded to a running server and, with ``--wait``, followed until each is indexed or failed.
Exits 1 if any file failed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
from tqdm import tqdm

from core.db import migrate, session_scope
from core.errors import BindeskError
from core.settings import Settings
from kb.documents import Upload, accept_uploads, requeue_documents
from kb.embedded import vector_service

UPLOAD_BATCH = 16


def collect_files(paths: Sequence[str]) -> list[Path]:
    """Files named, and every file under folders named (recursively, hidden ones skipped), sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not _hidden(p, path))
        elif path.is_file():
            found.append(path)
        else:
            raise BindeskError(f"{raw}: no such file or folder", code="not_found")
    return found


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def ingest_local(settings: Settings, workspace_id: str, paths: Sequence[str]) -> int:
    from kb.indexing import index_document
    from kb.runtime import Runtime

    files = collect_files(paths)
    migrate(settings)
    runtime = Runtime(settings)
    failures: list[str] = []
    with vector_service(settings), tqdm(total=len(files), unit="file", file=sys.stderr) as bar:
        runtime.warm_up()
        for path in files:
            bar.set_description(path.name[:40])
            try:
                with session_scope(settings) as session:
                    accepted = accept_uploads(
                        session,
                        runtime.blobs,
                        workspace_id,
                        [Upload(path.name, path.read_bytes())],
                        max_bytes=settings.max_upload_bytes,
                    )
                for key in accepted.stale_blobs:
                    runtime.blobs.delete(key)
                for document_id in accepted.to_index:
                    outcome = index_document(runtime, document_id)
                    if outcome.status == "failed":
                        failures.append(f"{path}: {outcome.error}")
            except BindeskError as exc:
                failures.append(f"{path}: {exc.code}: {exc.message}")
            bar.update(1)
            bar.set_postfix(failed=len(failures))
    return _summarise(len(files), failures)


def reindex_local(settings: Settings, workspace_id: str) -> int:
    """Index every document of the workspace again with the configured embedder and chunking, here.

    What to run after switching ``BINDESK_EMBEDDER`` (the new backend's collection starts empty) or changing
    ``BINDESK_CHUNK_TOKENS``. A document whose current version fails again keeps serving its earlier version,
    which is indexed again in its place. Exits 1 if any document failed.
    """
    from kb.indexing import index_document, rebuild_served
    from kb.runtime import Runtime

    migrate(settings)
    runtime = Runtime(settings)
    with session_scope(settings) as session:
        document_ids = requeue_documents(session, workspace_id)
    failures: list[str] = []
    with vector_service(settings), tqdm(total=len(document_ids), unit="doc", file=sys.stderr) as bar:
        runtime.warm_up()
        for document_id in document_ids:
            outcome = index_document(runtime, document_id)
            if outcome.status == "failed":
                served = rebuild_served(runtime, document_id)
                also = f"; the served {served.error}" if served.status == "failed" else ""
                failures.append(f"{document_id}: {outcome.error}{also}")  # one line per document: it counts once
            bar.update(1)
            bar.set_postfix(failed=len(failures))
    return _summarise(len(document_ids), failures, noun="documents")


def ingest_remote(url: str, key: str, paths: Sequence[str], *, wait: bool) -> int:
    files = collect_files(paths)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    ids: dict[str, str] = {}
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=300) as client:
        with tqdm(total=len(files), unit="file", desc="upload", file=sys.stderr) as bar:
            for batch in _batches(files, UPLOAD_BATCH):
                response = client.post("/v1/kb/documents", files=[("files", (p.name, p.read_bytes())) for p in batch])
                if response.status_code != 202:
                    failures.extend(f"{p}: {_error_text(response)}" for p in batch)
                else:
                    ids.update({d["id"]: str(p) for d, p in zip(response.json(), batch, strict=True)})
                bar.update(len(batch))
                bar.set_postfix(failed=len(failures))
        if wait:
            failures.extend(_wait_indexed(client, ids))
    return _summarise(len(files), failures, outcome="indexed" if wait else "queued for indexing")


def _wait_indexed(client: httpx.Client, ids: dict[str, str]) -> list[str]:
    pending = dict(ids)
    failures: list[str] = []
    with tqdm(total=len(ids), unit="doc", desc="index", file=sys.stderr) as bar:
        while pending:
            for document_id, path in list(pending.items()):
                doc = client.get(f"/v1/kb/documents/{document_id}").json()
                if doc.get("status") in ("indexed", "failed"):
                    if doc["status"] == "failed":
                        failures.append(f"{path}: {doc.get('error')}")
                    del pending[document_id]
                    bar.update(1)
                    bar.set_postfix(failed=len(failures))
            if pending:
                time.sleep(1.0)
    return failures


def _batches(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except Exception:
        return f"HTTP {response.status_code}"


def _summarise(total: int, failures: list[str], noun: str = "files", outcome: str = "indexed") -> int:
    """Print the failures and a count line ("5 of 6 files indexed, 1 failed"); the exit status (1 if any failed).
    ``outcome`` is what happened to the others: an upload without ``--wait`` only knows they were queued."""
    for line in failures:
        print(f"failed: {line}", file=sys.stderr)
    print(f"{total - len(failures)} of {total} {noun} {outcome}, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0
