"""The long-lived parts of one process (models, vector store, graph, blobs), built lazily and shared.

Constructing a :class:`Runtime` is cheap; :meth:`Runtime.warm_up` loads the models (FastAPI lifespan, Celery
``worker_process_init``, the CLI before a batch). :class:`Models` is separate so that several runtimes (tests
against SQLite and PostgreSQL, say) can share one set of loaded weights.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from core.blobs import FileBlobStore
from core.settings import Settings
from embed.protocol import Embedder, TextReader, Transcriber
from generation.protocol import Generator
from kg.store import SqlGraphStore
from retrieval.milvus import MilvusVectorStore

if TYPE_CHECKING:
    from embed.ocr import RapidOcrReader

log = logging.getLogger(__name__)


class Models:
    """The embedder, OCR and speech-to-text for one configuration; each loads on first use or warm-up."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def embedder(self) -> Embedder:
        from embed.factory import get_embedder

        return get_embedder(self.settings)

    @cached_property
    def ocr(self) -> RapidOcrReader:
        """OCR for documents: pages and pictures read at the library's full detection size."""
        from embed.ocr import RapidOcrReader

        return RapidOcrReader(cpu_threads=self.settings.torch_threads)

    @cached_property
    def photo_ocr(self) -> TextReader:
        """OCR for customer photos (chat turns, search by photo): the same engine with a smaller detector input,
        ``Settings.ocr_photo_max_side``."""
        return self.ocr.for_photos(self.settings.ocr_photo_max_side)

    @cached_property
    def transcriber(self) -> Transcriber:
        from embed.speech import WhisperTranscriber

        return WhisperTranscriber(self.settings.whisper_model_dir, cpu_threads=self.settings.torch_threads)

    @cached_property
    def generator(self) -> Generator:
        from generation.factory import get_generator

        # No encoder for the extractive generator: on MTRAG it adds nothing measurable (benchmarks/RESULTS.md)
        # and would embed every candidate sentence on each turn.
        return get_generator(self.settings)

    def warm_up(self, *, speech: bool = True, ocr: bool = True, generator: bool = False) -> None:
        self.embedder.warm_up()
        if ocr:
            self.ocr.warm_up()
        if speech:
            self.transcriber.warm_up()
        if generator:  # the API answers; ingest workers never load it (a T5 on the GPU is gigabytes)
            self.generator.warm_up()
        log.info("models ready (embedder=%s)", self.embedder.name)


class Runtime:
    def __init__(self, settings: Settings, models: Models | None = None) -> None:
        self.settings = settings
        self.models = models or Models(settings)
        self._lock = threading.Lock()
        self._collection_ready = False

    @property
    def embedder(self) -> Embedder:
        return self.models.embedder

    @property
    def ocr(self) -> TextReader:
        return self.models.ocr

    @property
    def photo_ocr(self) -> TextReader:
        return self.models.photo_ocr

    @property
    def transcriber(self) -> Transcriber:
        return self.models.transcriber

    @property
    def generator(self) -> Generator:
        return self.models.generator

    @cached_property
    def blobs(self) -> FileBlobStore:
        return FileBlobStore(self.settings.blobs_path)

    @cached_property
    def graph(self) -> SqlGraphStore:
        return SqlGraphStore()

    @property
    def store(self) -> MilvusVectorStore:
        """The vector store for the configured embedder; its collection is created on first use."""
        store = self._store
        if not self._collection_ready:
            with self._lock:
                if not self._collection_ready:
                    store.ensure_collection()
                    self._collection_ready = True
        return store

    @cached_property
    def _store(self) -> MilvusVectorStore:
        embedder = self.embedder
        return MilvusVectorStore(
            uri=self.settings.milvus_uri,
            backend=embedder.name,
            dense_dim=embedder.dense_dim,
            visual_dim=embedder.visual_dim,
            token=self.settings.milvus_token,
        )

    def warm_up(self, *, speech: bool = True, ocr: bool = True, generator: bool = False) -> None:
        """Load the models this process will use, so the first request does not pay for it."""
        self.models.warm_up(speech=speech, ocr=ocr, generator=generator)

    def close(self) -> None:
        """Close the vector store's connection, if one was opened (a later call reconnects): a stopping process
        gives its connection back instead of leaving it to the server to notice."""
        store = self.__dict__.get("_store")
        if store is not None:
            store.close()


def workspaces_missing_vectors(runtime: Runtime, limit: int = 50) -> list[str]:
    """Workspaces whose database lists indexed chunks while this backend's collection holds none of theirs.

    That is what switching embedders on an existing deployment looks like: each backend has its own collection
    (``bindesk_chunks_<backend>``), the new one starts empty, and the documents still say ``indexed`` (so an
    unchanged re-upload is a no-op). Looks at up to ``limit`` workspaces; one count query each.
    """
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Chunk

    with session_scope(runtime.settings) as session:
        workspaces = list(session.execute(select(Chunk.workspace_id).distinct().limit(limit)).scalars())
    store = runtime.store
    return [workspace for workspace in workspaces if store.count(workspace) == 0]
