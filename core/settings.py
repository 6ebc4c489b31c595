"""The one settings object. Nothing else in Bindesk reads the environment.

Every field can be set with an environment variable named ``BINDESK_<FIELD>`` (upper case) or in a
``.env`` file in the working directory. Derived locations (database, broker, blobs, vector data) default to
places under ``data_dir`` so that ``bindesk up`` needs no configuration at all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["local", "imagebind"]
GeneratorName = Literal["extractive", "t5", "openai"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BINDESK_", env_file=".env", extra="ignore")

    # --- where things live -------------------------------------------------------------------------
    data_dir: Path = Field(default=Path("./var"), description="Root of every file Bindesk writes locally.")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite file in data_dir.")
    broker_url: str = Field(default="", description="Celery broker; default: SQLAlchemy transport on SQLite.")
    result_backend: str = Field(default="", description="Celery result backend; default: SQLite.")
    redis_url: str = Field(default="", description="Redis for live events across API processes; empty: in-process.")
    milvus_uri: str = Field(default="", description="Milvus URI; default: the embedded milvus-lite server.")
    milvus_token: str = ""
    milvus_lite_port: int = 19540
    blob_dir: Path | None = None

    api_key: str = Field(default="", description="Key the CLI sends with --url (ops for ingest, widget for ask).")

    # --- HTTP ----------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 50 * 1024 * 1024
    max_message_chars: int = 4000
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_audio_bytes: int = 20 * 1024 * 1024
    max_audio_seconds: float = 120.0
    max_ingest_audio_seconds: float = 3 * 3600.0
    session_ttl_seconds: int = 12 * 3600
    # Per workspace and client address (api/ratelimit.py); 0 turns a limit off.
    rate_limit_conversations_per_hour: int = Field(default=60, ge=0)
    rate_limit_turns_per_minute: int = Field(default=30, ge=0)
    secure_cookies: bool = False

    # --- models --------------------------------------------------------------------------------------
    embedder: EmbedderName = "local"
    torch_threads: int = Field(default=0, description="CPU threads for torch/onnx; 0 lets the library choose.")
    embed_batch_size: int = 64
    ocr_photo_max_side: int = Field(
        default=960,
        description="Longest side, in pixels, of a customer photo as the OCR text detector sees it (lines are "
        "still read at full size). Small photos are enlarged as RapidOCR does; documents keep its 2000 px. "
        "960 is PaddleOCR's classic detector bound; it took the photo turn's OCR from ~630 to ~230 ms on the "
        "2-core machine with the same words read (benchmarks/RESULTS.md, turn latency).",
    )
    imagebind_checkpoint: Path | None = None
    imagebind_device: str = "cuda"
    imagebind_dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    imagebind_config: Literal["huge", "tiny"] = "huge"
    whisper_model_dir: Path | None = Field(default=None, description="CTranslate2 Whisper; default: bundled.")
    generator: GeneratorName = "extractive"
    t5_model_dir: Path | None = None
    t5_device: str = "auto"
    t5_cache: Literal["auto", "dynamic", "static"] = Field(
        default="auto",
        description="The t5 generator's key/value cache. auto = static on a GPU (the decoder step compiled: 7.9x "
        "faster one answer at a time for T5-base on an H200, benchmarks/RESULTS.md section 3), dynamic on a CPU.",
    )
    openai_base_url: str = ""
    openai_api_key: str = ""
    openai_model: str = ""
    openai_timeout_seconds: float = 30.0

    # --- ingest --------------------------------------------------------------------------------------
    chunk_tokens: int = Field(
        default=64,
        description="Target chunk size in tokens of the text embedder (MiniLM reads at most 256). 64 measured best "
        "on emanual TV (section recall@5, live first stage: 64 tok 0.78, 96 tok 0.77, 128 tok 0.75, 200 tok 0.73) with "
        "stackfaq at its ceiling either way (benchmarks/retrieval_tune.py).",
    )
    chunk_overlap_tokens: int = Field(default=16, description="Tokens shared by neighbouring chunks (a quarter).")
    ingest_max_retries: int = 3
    queue_visibility_timeout: int = Field(
        default=3600, description="Seconds before a task taken by a worker that died is delivered again (Redis)."
    )
    worker_concurrency: int = 1
    docx_max_uncompressed_bytes: int = 200 * 1024 * 1024
    docx_max_compression_ratio: float = 100.0

    # --- retrieval and decisions ---------------------------------------------------------------------
    retrieval_candidates: int = 50
    rrf_k: int = 60
    voice_vocabulary: bool = Field(
        default=True,
        description="Search with a voice note's transcript corrected against the knowledge base's own words "
        "(chat.vocabulary); the transcript is stored and shown as heard either way.",
    )
    typed_vocabulary: bool = Field(
        default=True,
        description="Search with typed text whose misspelt words ('gest netwrok') are offered the knowledge "
        "base's words they stand for (chat.vocabulary, added after them); the message is stored as typed.",
    )
    answer_threshold: float = Field(
        default=0.7852,
        description="Answerability probability at or above which the bot answers. Calibrated, not guessed: the "
        "lowest score keeping precision >= 0.90 on 'answer' (out-of-fold) over MTRAG-UN's tune half, on the "
        "evidence the turn path computes (benchmarks/tune/mtrag_turns.py, then benchmarks/tune/fit_answerability.py "
        "--records), stored with the model in retrieval/calibration/answerability.json; on the held-out report "
        "half it gives precision 0.787 (0.876 if a partial answer counts as right) and recall 0.547.",
    )
    clarify_threshold: float = Field(
        default=0.2347,
        description="Underspecified probability (retrieval.answerability.UnderspecifiedModel) at or above which a "
        "question the bot cannot answer gets a clarifying question instead of an escalation; the F1-best cut-off "
        "on MTRAG-UN's tune half (benchmarks/tune/fit_answerability.py, retrieval/calibration/underspecified.json).",
    )
    max_failed_turns: int = 2
    answer_passage_margin: float = Field(
        default=2.0,
        ge=0.0,
        description="The generator reads the top passages whose reranked score is within this many log-odds of "
        "the best (e^2: ~7x less likely to be the right one). Answers then leave out sentences from passages "
        "retrieval barely kept. MTRAG-UN's 128 answerable report-half tasks, same run: token F1 / ROUGE-L / words "
        "0.316 / 0.240 / 53 reading all five, 0.311 / 0.241 / 48 within 2, 0.295 / 0.237 / 38 within 1 "
        "(benchmarks/RESULTS.md, answer quality).",
    )

    @model_validator(mode="after")
    def _derive_locations(self) -> Settings:
        data = self.data_dir.expanduser().resolve()
        self.data_dir = data
        if not self.database_url:
            self.database_url = f"sqlite:///{data / 'bindesk.sqlite'}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{data / 'broker.sqlite'}"
        if not self.result_backend:
            self.result_backend = f"db+sqlite:///{data / 'results.sqlite'}"
        if not self.milvus_uri:
            self.milvus_uri = f"http://127.0.0.1:{self.milvus_lite_port}"
        if self.blob_dir is None:
            self.blob_dir = data / "blobs"
        return self

    @property
    def milvus_lite_dir(self) -> Path:
        """Data directory of the embedded milvus-lite server (only used when we start it ourselves)."""
        return self.data_dir / "milvus"

    @property
    def blobs_path(self) -> Path:
        assert self.blob_dir is not None  # set by the validator
        return self.blob_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the CLI change the environment before the first read)."""
    get_settings.cache_clear()
