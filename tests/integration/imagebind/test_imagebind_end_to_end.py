"""``bindesk up`` with ``BINDESK_EMBEDDER=imagebind`` ingests and answers end to end, as a deployment runs it.

The stack is the real one, launched as a user launches it: ``bindesk up`` (migrations, a milvus-lite server, a
Celery worker, the API) on free ports with its own data directory, keys from ``bindesk keys create``, files from
``bindesk ingest --url ... --wait``, questions from ``bindesk ask --url ... --json`` and ``POST /v1/kb/search``.
The checkpoint is the tiny reference model (tests/fixtures/imagebind) saved the way a user supplies one.

Its weights are random, so retrieval *quality* means nothing here; what is asserted is that the pipeline works:
every modality indexed into the imagebind collection (its own, apart from ``local``'s) with vectors of the
configured width, photo and voice-note queries searched against text and image chunks, answers or escalations
in the documented JSON shape citing only ingested documents, and a clear refusal to start on a missing or
mismatching checkpoint, leaving nothing running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from commands.ask import ASK_JSON_KEYS, CITATION_KEYS
from tests.support.media_fixtures import espeak_available, speech_wav, text_image
from tests.support.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imagebind"
TINY_DIM = 16  # the tiny config's out_embed_dim (the huge checkpoint gives 1024)
COLLECTION = "bindesk_chunks_imagebind"
MANUAL = "aurora-kettle.md"
PHOTO = "e42-display.png"
HOWTO = "reset-howto.wav"
MANUAL_TEXT = """# Aurora kettle manual

## Descaling

To descale the Aurora kettle, fill it with water and one descaling tablet, boil it, wait ten minutes and rinse
it twice with clean water. Descale every month in hard-water areas.

## Error E42

Error E42 on the display means the kettle has scale on its heating plate. Descale the kettle to clear E42.

## Warranty

The warranty covers the heating element for three years.
"""
# Words Whisper tiny hears correctly from espeak-ng (the browser journeys ask the same question).
VOICE_QUESTION = "How many years does the warranty cover the heating element?"
# Two shared CPU cores load the models in the API and the worker at once.
START_TIMEOUT = 600.0
CLI_TIMEOUT = 600.0


def save_tiny_checkpoint(path: Path) -> Path:
    """The tiny reference weights written as a user supplies a checkpoint: ``torch.save`` of a state dict."""
    with np.load(FIXTURES / "tiny_state_dict.npz") as data:
        torch.save({name: torch.from_numpy(data[name]) for name in data.files}, path)
    return path


def bindesk() -> str:
    return str(Path(sys.executable).with_name("bindesk"))


def imagebind_env(root: Path, checkpoint: Path, config: str = "tiny") -> dict[str, str]:
    """A clean environment (no inherited BINDESK_* settings) for a stack of its own under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDESK_")}
    env.update(
        {
            "BINDESK_DATA_DIR": str(root / "var"),
            "BINDESK_HOST": "127.0.0.1",
            "BINDESK_PORT": str(free_port()),
            "BINDESK_MILVUS_LITE_PORT": str(free_port()),
            "BINDESK_EMBEDDER": "imagebind",
            "BINDESK_IMAGEBIND_CHECKPOINT": str(checkpoint),
            "BINDESK_IMAGEBIND_CONFIG": config,
            "BINDESK_IMAGEBIND_DEVICE": "cpu",
            "BINDESK_IMAGEBIND_DTYPE": "float32",
            "BINDESK_TORCH_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    return env


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [bindesk(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )


@dataclass
class Stack:
    root: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    ops_key: str = ""
    widget_key: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['BINDESK_PORT']}"

    @property
    def milvus_port(self) -> int:
        return int(self.env["BINDESK_MILVUS_LITE_PORT"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_cli(self.env, self.root, *args)
        assert result.returncode == 0, f"bindesk {' '.join(args)} -> {result.returncode}:\n{result.stderr[-3000:]}"
        return result

    def ops(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.ops_key}"}, timeout=120)

    def ask(self, *args: str) -> dict[str, Any]:
        out = self.cli("ask", *args, "--url", self.url, "--key", self.widget_key, "--json")
        answer: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return answer

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bindesk up exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"bindesk up was not ready within {START_TIMEOUT:.0f}s:\n{self.log()[-4000:]}")

    def stop(self) -> int:
        """SIGTERM to ``bindesk up`` alone, as a service manager sends it: it stops its worker and vector server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(f"bindesk up did not stop on SIGTERM:\n{self.log()[-4000:]}") from None
        return self.process.returncode


def launch(root: Path, env: dict[str, str]) -> Stack:
    log_path = root / "up.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [bindesk(), "up"], env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Stack(root=root, env=env, process=process, log_path=log_path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("imagebind-up")
    checkpoint = save_tiny_checkpoint(tmp_path_factory.mktemp("weights") / "imagebind_tiny.pth")
    env = imagebind_env(root, checkpoint)
    # The answerability judge weighs dense similarity, which random weights make meaningless (the descaling
    # question scores ~0.18 against its own passage), so this stack answers whenever retrieval finds evidence:
    # what is exercised is retrieval -> generation -> citations, not the judge's calibration.
    env["BINDESK_ANSWER_THRESHOLD"] = "0"
    up = launch(root, env)
    try:
        up.wait_ready()
        up.ops_key = up.cli("keys", "create", "--role", "ops").stdout.strip().splitlines()[-1]
        up.widget_key = up.cli("keys", "create", "--role", "widget").stdout.strip().splitlines()[-1]
        files = root / "kb"
        files.mkdir()
        (files / MANUAL).write_text(MANUAL_TEXT, encoding="utf-8")
        (files / PHOTO).write_bytes(text_image(["ERROR E42", "descale now"]))
        if espeak_available():
            (files / HOWTO).write_bytes(speech_wav("To reset the kettle, hold the power button for five seconds."))
        up.cli("ingest", str(files), "--url", up.url, "--key", up.ops_key, "--wait")
        yield up
    finally:
        code = up.stop()
    assert code == 0, f"bindesk up exited with {code} on SIGTERM:\n{up.log()[-4000:]}"
    assert not port_in_use(up.milvus_port), "the vector server outlived bindesk up"
    worker_log = (root / "var" / "worker.log").read_text(errors="replace")
    assert "Warm shutdown" in worker_log, "the worker was not stopped:\n" + worker_log[-2000:]


def documents(stack: Stack) -> dict[str, dict[str, Any]]:
    with stack.ops() as client:
        response = client.get("/v1/kb/documents")
    assert response.status_code == 200, response.text
    return {d["filename"]: d for d in response.json()}


def assert_ask_shape(answer: dict[str, Any], known_documents: dict[str, dict[str, Any]]) -> None:
    """The documented ``ask --json`` object; every citation names a document that was ingested."""
    assert set(answer) == set(ASK_JSON_KEYS)
    assert isinstance(answer["escalated"], bool)
    assert answer["conversation_id"]
    if answer["escalated"]:
        assert answer["escalation_reason"] and not answer["citations"], answer
    else:
        assert answer["answer"], answer
    ids = {d["id"]: name for name, d in known_documents.items()}
    for citation in answer["citations"]:
        assert set(citation) == set(CITATION_KEYS)
        assert ids.get(citation["document_id"]) == citation["source"], citation


def test_every_file_is_indexed_into_the_imagebind_collection_alone(stack: Stack) -> None:
    from pymilvus import MilvusClient

    docs = documents(stack)
    expected = {MANUAL, PHOTO} | ({HOWTO} if espeak_available() else set())
    assert set(docs) == expected
    assert all(d["status"] == "indexed" and d["chunks"] > 0 for d in docs.values()), docs

    client = MilvusClient(uri=f"http://127.0.0.1:{stack.milvus_port}")
    try:
        assert client.list_collections() == [COLLECTION]  # the local backend's collection was never made
        described = client.describe_collection(COLLECTION)
        dims = {f["name"]: f.get("params", {}).get("dim") for f in described["fields"]}
        assert (int(dims["dense"]), int(dims["visual"])) == (TINY_DIM, TINY_DIM)
        rows = client.query(
            COLLECTION,
            filter='workspace == "default"',
            output_fields=["document_id", "source", "modality", "dense", "visual", "has_visual"],
        )
    finally:
        client.close()
    assert len(rows) == sum(d["chunks"] for d in docs.values())
    modalities = {row["modality"] for row in rows}
    assert modalities == {"text", "image"} | ({"audio"} if espeak_available() else set())
    for row in rows:
        dense = np.asarray(row["dense"], dtype=np.float32)
        assert dense.shape == (TINY_DIM,) and abs(float(np.linalg.norm(dense)) - 1.0) < 1e-3, row["source"]
        assert row["document_id"] == docs[row["source"]]["id"]
        if row["modality"] == "image":  # ImageBind embeds pixels natively: the image-to-image vector is the same
            assert row["has_visual"] and np.allclose(row["visual"], row["dense"], atol=1e-6)


def test_startup_logs_the_weights_licence(stack: Stack) -> None:
    log = stack.log()
    assert "CC-BY-NC 4.0" in log
    assert "ImageBind tiny loaded from" in log


def test_a_photo_query_searches_text_and_image_chunks(stack: Stack) -> None:
    photo = text_image(["E42"], font_size=60)
    with stack.ops() as client:
        response = client.post("/v1/kb/search", data={"k": "20"}, files={"image": ("query.png", photo, "image/png")})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    docs = documents(stack)
    assert hits and {h["modality"] for h in hits} >= {"text", "image"}  # one space: a photo reaches text chunks
    assert all(docs[h["source"]]["id"] == h["document_id"] for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_a_text_question_is_answered_with_a_citation(stack: Stack) -> None:
    answer = stack.ask("How do I descale the Aurora kettle?")
    assert_ask_shape(answer, documents(stack))
    assert not answer["escalated"], answer
    assert any(c["source"] == MANUAL for c in answer["citations"]), answer["citations"]


def test_a_photo_turn_goes_through_the_chat_path(stack: Stack) -> None:
    image = stack.root / "customer-photo.png"
    image.write_bytes(text_image(["ERROR E42"]))
    answer = stack.ask("What does this error mean?", "--image", str(image))
    assert_ask_shape(answer, documents(stack))
    assert "E42" in (answer["ocr_text"] or "")
    assert not answer["escalated"] and answer["citations"], answer


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng makes the voice note")
def test_a_voice_note_turn_goes_through_the_chat_path(stack: Stack) -> None:
    note = stack.root / "voice-note.wav"
    note.write_bytes(speech_wav(VOICE_QUESTION))
    answer = stack.ask("--audio", str(note))
    assert_ask_shape(answer, documents(stack))
    assert "warranty" in (answer["transcript"] or "").lower()
    assert not answer["escalated"] and answer["citations"], answer


# --- refusing to start -----------------------------------------------------------------------------------------


def refused_start(tmp_path: Path, checkpoint: Path, config: str) -> tuple[subprocess.CompletedProcess[str], int]:
    env = imagebind_env(tmp_path, checkpoint, config)
    result = run_cli(env, tmp_path, "up")
    return result, int(env["BINDESK_MILVUS_LITE_PORT"])


def test_up_refuses_a_missing_checkpoint_and_starts_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "imagebind_huge.pth"
    result, milvus_port = refused_start(tmp_path, missing, "huge")

    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: model_unavailable: ImageBind checkpoint not found at"), last
    assert str(missing) in last and "BINDESK_IMAGEBIND_CHECKPOINT" in last
    assert not port_in_use(milvus_port)
    assert not (tmp_path / "var" / "milvus").exists()


def test_up_refuses_a_checkpoint_of_another_size(tmp_path: Path) -> None:
    tiny = save_tiny_checkpoint(tmp_path / "imagebind_tiny.pth")
    result, milvus_port = refused_start(tmp_path, tiny, "huge")  # tiny weights, huge architecture

    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: checkpoint_mismatch:"), last
    assert "does not match the ImageBind 'huge' architecture" in last and "wrong shape" in last
    assert not port_in_use(milvus_port)
