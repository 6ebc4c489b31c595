"""Upload -> indexed -> searchable on SQLite, and every kind of bad input refused or failed cleanly."""

from __future__ import annotations

import numpy as np
import pytest

from core.db import session_scope
from core.models import Chunk
from kb.search import stored_sentence_vectors
from retrieval.rerank import sentence_inputs, unpack_vectors
from tests.integration.ingest.conftest import OpsClient
from tests.support import media_fixtures as media

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MANUAL = b"""# Smart Remote guide

## Replacing the batteries
Open the battery cover on the back of the Smart Remote and insert two AA batteries, matching the + and - marks.

## Pairing the remote with the TV
Point the remote at the TV's sensor, then press and hold the Back and Play/Pause buttons together for 3 seconds.
"""


def test_markdown_upload_is_indexed_and_searchable(sqlite_ops: OpsClient) -> None:
    response = sqlite_ops.upload(("remote-guide.md", MANUAL))
    assert response.status_code == 202, response.text
    (accepted,) = response.json()
    assert accepted["filename"] == "remote-guide.md"
    doc = sqlite_ops.wait_done(accepted["id"])
    assert doc["status"] == "indexed", doc["error"]
    assert doc["chunks"] >= 2
    assert sqlite_ops.vector_count(doc["id"]) == doc["chunks"] == sqlite_ops.chunk_rows(doc["id"])

    hits = sqlite_ops.search("how do I pair the remote with my TV", k=3)
    assert hits[0]["source"] == "remote-guide.md"
    assert "Back and Play/Pause" in hits[0]["snippet"]
    assert hits[0]["title"]


def test_indexed_chunks_carry_the_rerankers_sentence_vectors(sqlite_ops: OpsClient) -> None:
    """A turn reads these instead of encoding its candidates' sentences: they must be what it would encode."""
    doc = sqlite_ops.wait_done(sqlite_ops.upload(("vectors-guide.md", MANUAL)).json()[0]["id"])
    with session_scope(sqlite_ops.settings) as session:
        ids = [c.id for c in session.query(Chunk).filter(Chunk.document_id == doc["id"])]
        stored = stored_sentence_vectors(session, sqlite_ops.workspace, ids)
    hits = sqlite_ops.runtime.store.fetch(sqlite_ops.workspace, ids)
    assert len(hits) == len(stored) == doc["chunks"] >= 2
    for hit in hits:
        expected = sqlite_ops.runtime.embedder.embed_texts(sentence_inputs(hit.text, hit.heading, hit.title))
        got = unpack_vectors(stored[hit.chunk_id], expected.shape[1])
        assert got is not None and got.shape == expected.shape
        assert np.allclose(got, expected, atol=2e-3)


def test_every_supported_kind_indexes(sqlite_ops: OpsClient) -> None:
    files = [
        ("manual.pdf", media.pdf_with_text_layer()),
        ("guide.docx", media.docx_document()),
        ("page.html", media.html_page()),
        ("faq.csv", media.faq_csv()),
        ("error-screen.png", media.text_image(["Error E-104", "Network cable unplugged"])),
        ("howto.wav", media.speech_wav("To reset the router, hold the reset button for ten seconds.")),
    ]
    response = sqlite_ops.upload(*files)
    assert response.status_code == 202, response.text
    for accepted in response.json():
        doc = sqlite_ops.wait_done(accepted["id"])
        assert doc["status"] == "indexed", (doc["filename"], doc["error"])
        assert doc["chunks"] == sqlite_ops.vector_count(doc["id"]) > 0

    hits = sqlite_ops.search("error E-104 network cable", k=3)
    assert hits[0]["source"] == "error-screen.png"
    spoken = sqlite_ops.search("reset the router", k=3)
    assert spoken[0]["source"] == "howto.wav"


def test_reupload_replaces_the_chunks(sqlite_ops: OpsClient) -> None:
    first = sqlite_ops.wait_done(sqlite_ops.upload(("policy.md", MANUAL)).json()[0]["id"])
    again = sqlite_ops.upload(("policy.md", MANUAL))  # same bytes: nothing to do
    assert again.json()[0]["id"] == first["id"]
    assert sqlite_ops.document(first["id"])["version"] == 1

    changed = b"# Returns\n\n## Return window\nYou can return any item within 45 days of delivery for a refund.\n"
    second = sqlite_ops.wait_done(sqlite_ops.upload(("policy.md", changed)).json()[0]["id"])
    assert second["id"] == first["id"] and second["version"] == 2 and second["status"] == "indexed"
    assert sqlite_ops.vector_count(second["id"]) == second["chunks"] == sqlite_ops.chunk_rows(second["id"])
    listed = sqlite_ops.client.get("/v1/kb/documents", headers=sqlite_ops.headers).json()
    assert [d["filename"] for d in listed].count("policy.md") == 1
    hits = sqlite_ops.search("pair the remote", k=5)
    assert all("Back and Play" not in h["snippet"] for h in hits)


def test_a_reupload_that_fails_leaves_the_served_version_searchable(sqlite_ops: OpsClient) -> None:
    first = sqlite_ops.wait_done(sqlite_ops.upload(("remote.pdf", media.pdf_with_text_layer())).json()[0]["id"])
    assert first["status"] == "indexed" and first["served_version"] == 1
    before = sqlite_ops.search("how often should I descale the kettle", k=3)
    assert before and before[0]["source"] == "remote.pdf"
    blobs = sqlite_ops.settings.blobs_path / sqlite_ops.workspace / "documents"
    files_before = sorted(p.name for p in blobs.iterdir())

    broken = sqlite_ops.wait_done(sqlite_ops.upload(("remote.pdf", media.truncated_pdf())).json()[0]["id"])
    assert broken["id"] == first["id"] and broken["version"] == 2
    assert broken["status"] == "failed" and broken["error"].startswith("corrupt_document"), broken["error"]
    assert "version 1 is still served" in broken["error"]
    assert broken["served_version"] == 1 and broken["chunks"] == first["chunks"]
    assert sqlite_ops.vector_count(first["id"]) == first["chunks"] == sqlite_ops.chunk_rows(first["id"])
    assert sqlite_ops.search("how often should I descale the kettle", k=3)[0]["chunk_id"] == before[0]["chunk_id"]
    # The served version's file is kept beside the failed one's (a reindex needs it).
    assert set(files_before) < {p.name for p in blobs.iterdir()}

    fixed = sqlite_ops.upload(("remote.pdf", media.pdf_with_text_layer(with_outline=False))).json()[0]["id"]
    fixed_doc = sqlite_ops.wait_done(fixed)
    assert fixed_doc["status"] == "indexed" and fixed_doc["version"] == fixed_doc["served_version"] == 3
    assert sqlite_ops.vector_count(fixed) == fixed_doc["chunks"] == sqlite_ops.chunk_rows(fixed)
    after = sorted(p.name for p in blobs.iterdir())
    assert len(after) == 1 and after != files_before  # versions 1 and 2's files went once version 3 was in


def test_reindex_rebuilds_lost_vectors_and_never_duplicates(sqlite_ops: OpsClient) -> None:
    from commands.ingest import reindex_local

    doc = sqlite_ops.wait_done(sqlite_ops.upload(("reindex-guide.md", MANUAL)).json()[0]["id"])
    # What an embedder switch looks like to a workspace: rows say indexed, the collection holds nothing of it.
    sqlite_ops.runtime.store.delete_document(sqlite_ops.workspace, doc["id"])
    assert sqlite_ops.vector_count(doc["id"]) == 0

    for _ in range(2):  # a second run replaces, never adds
        assert reindex_local(sqlite_ops.settings, sqlite_ops.workspace) == 0
        again = sqlite_ops.document(doc["id"])
        assert again["status"] == "indexed" and again["version"] == doc["version"]
        assert sqlite_ops.vector_count(doc["id"]) == again["chunks"] == sqlite_ops.chunk_rows(doc["id"]) > 0
    assert sqlite_ops.search("pair the remote with the TV", k=3)[0]["source"] == "reindex-guide.md"


def test_reindex_rebuilds_the_version_a_failed_document_still_serves(sqlite_ops: OpsClient) -> None:
    from commands.ingest import reindex_local

    first = sqlite_ops.wait_done(sqlite_ops.upload(("served.pdf", media.pdf_with_text_layer())).json()[0]["id"])
    broken = sqlite_ops.wait_done(sqlite_ops.upload(("served.pdf", media.truncated_pdf())).json()[0]["id"])
    assert broken["status"] == "failed" and broken["served_version"] == 1
    sqlite_ops.runtime.store.delete_document(sqlite_ops.workspace, first["id"])  # an embedder switch, as above

    assert reindex_local(sqlite_ops.settings, sqlite_ops.workspace) == 1  # version 2 is still broken: said so
    after = sqlite_ops.document(first["id"])
    assert after["status"] == "failed" and "version 1 is still served" in after["error"]
    assert after["version"] == 2 and after["served_version"] == 1
    assert sqlite_ops.vector_count(first["id"]) == after["chunks"] == sqlite_ops.chunk_rows(first["id"]) > 0
    hits = sqlite_ops.search("how often should I descale the kettle", k=3)
    assert hits[0]["source"] == "served.pdf"


def test_delete_removes_vectors_rows_and_document(sqlite_ops: OpsClient) -> None:
    doc = sqlite_ops.wait_done(sqlite_ops.upload(("to-delete.md", MANUAL)).json()[0]["id"])
    response = sqlite_ops.client.delete(f"/v1/kb/documents/{doc['id']}", headers=sqlite_ops.headers)
    assert response.status_code == 204
    assert sqlite_ops.vector_count(doc["id"]) == 0
    assert sqlite_ops.chunk_rows(doc["id"]) == 0
    gone = sqlite_ops.client.get(f"/v1/kb/documents/{doc['id']}", headers=sqlite_ops.headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("filename", "make", "code"),
    [
        ("broken.pdf", media.truncated_pdf, "corrupt_document"),
        ("broken.docx", media.corrupt_docx, "corrupt_document"),
        ("bomb.docx", media.zip_bomb_docx, "archive_bomb"),
        ("bomb.png", media.decompression_bomb_png, "decompression_bomb"),
        ("liar.wav", media.lying_wav, "corrupt_document"),
    ],
)
def test_bad_files_end_failed_with_a_reason_and_no_chunks(sqlite_ops: OpsClient, filename, make, code) -> None:
    response = sqlite_ops.upload((filename, make()))
    assert response.status_code == 202, response.text  # the type is right; what is inside is not
    doc = sqlite_ops.wait_done(response.json()[0]["id"])
    assert doc["status"] == "failed"
    assert doc["error"].startswith(code), doc["error"]
    assert doc["chunks"] == 0
    assert sqlite_ops.vector_count(doc["id"]) == 0 and sqlite_ops.chunk_rows(doc["id"]) == 0


def test_lying_type_is_refused_and_the_batch_stores_nothing(sqlite_ops: OpsClient) -> None:
    png = media.text_image(["hello"])
    response = sqlite_ops.upload(("good.md", MANUAL), ("invoice.pdf", png))
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and "invoice.pdf" in error["message"]
    assert sqlite_ops.client.get("/v1/kb/documents", headers=sqlite_ops.headers).json() == []


def test_an_upload_without_files_or_with_an_empty_one_is_422_and_stores_nothing(sqlite_ops: OpsClient) -> None:
    wrong_field = sqlite_ops.client.post(
        "/v1/kb/documents", headers=sqlite_ops.headers, files=[("file", ("guide.md", MANUAL))]
    )
    empty = sqlite_ops.upload(("good.md", MANUAL), ("blank.md", b""))
    for response, words in ((wrong_field, "fields named 'files'"), (empty, "blank.md: the file is empty")):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and words in error["message"]
    assert sqlite_ops.client.get("/v1/kb/documents", headers=sqlite_ops.headers).json() == []


def test_executable_is_refused(sqlite_ops: OpsClient) -> None:
    response = sqlite_ops.upload(("setup.md", b"\x7fELF\x02\x01\x01" + b"\x00" * 200))
    assert response.status_code == 415


def test_over_the_size_limit_is_413_before_the_body_is_read(make_settings, models, workspace) -> None:
    from kb.runtime import Runtime
    from tests.integration.ingest.conftest import _client

    settings = make_settings(max_upload_bytes=2_000)
    for ops in _client(settings, Runtime(settings, models), workspace, lambda _id: None):
        big = b"# Big\n\n" + b"word " * 10_000
        response = ops.upload(("big.md", big))
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

        def chunks():
            yield b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.md"\r\n\r\n'
            for _ in range(100):
                yield b"y" * 1000
            yield b"\r\n--x--\r\n"

        streamed = ops.client.post(
            "/v1/kb/documents",
            headers={**ops.headers, "Content-Type": "multipart/form-data; boundary=x"},
            content=chunks(),
        )
        assert streamed.status_code == 413
        assert ops.client.get("/v1/kb/documents", headers=ops.headers).json() == []


def test_hostile_file_name_never_becomes_a_path(sqlite_ops: OpsClient) -> None:
    response = sqlite_ops.upload(("../../../etc/cron.d/evil.md", MANUAL))
    assert response.status_code == 202
    doc = sqlite_ops.wait_done(response.json()[0]["id"])
    assert "/" not in doc["filename"] and ".." not in doc["filename"]
    assert doc["status"] == "indexed"
    blobs = list((sqlite_ops.settings.blobs_path).rglob("*"))
    assert all("evil" not in p.name and "etc" not in p.parts for p in blobs)
