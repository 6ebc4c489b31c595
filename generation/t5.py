"""The ``t5`` backend: a seq2seq checkpoint (T5, Flan-T5, a fine-tuned one from :mod:`generation.finetune`)
loaded from a local directory, never from a hub.

Input is :func:`generation.prompting.build_seq2seq_input` (question, recent turns, numbered passages,
first-ranked first, cut to the model's token budget). The model is expected to write [n] markers; where a
sentence has none it is attributed to the passage with the best lexical support, and a sentence no passage
supports is dropped (see :mod:`generation.grounding`), so an answer always cites or is empty.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from core.errors import CheckpointMismatch, ModelUnavailable
from generation.grounding import StreamingGrounder, question_context, stream_grounded
from generation.guardrails import DEFAULT_MAX_ANSWER_CHARS, answer_pieces, screen_request
from generation.prompting import build_seq2seq_input
from generation.protocol import Answer, AnswerSentence, GenerationRequest, Passage

log = logging.getLogger(__name__)

DEFAULT_MAX_INPUT_TOKENS = 512
T5Cache = Literal["auto", "dynamic", "static"]
_WARM_UP_TEXT = (
    "Hold the reset button on the back for ten seconds until the light blinks, then wait two minutes while the "
    "device restarts and reconnects to the network. "
)
_WARM_UP_REQUEST = GenerationRequest(
    question="How do I restart the device after the light blinks?",
    history=[("customer", "hello"), ("bot", "Hello! How can I help?")],
    passages=[
        Passage(n, f"warm-up-{n}", "warm-up", "warm-up.md", "Restarting", None, _WARM_UP_TEXT * 6, 1.0 / n)
        for n in range(1, 6)
    ],
)
_STREAM_TIMEOUT_SECONDS = 300.0


class T5Generator:
    """Generates answers with a local seq2seq checkpoint; GPU (bf16, or fp16 without bf16) when present."""

    name = "t5"

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        max_new_tokens: int = 128,
        batch_size: int = 8,
        *,
        max_input_tokens: int | None = None,
        num_beams: int = 1,
        max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS,
        cache: T5Cache = "dynamic",
    ) -> None:
        self.model_dir = Path(model_dir)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.batch_size = max(1, batch_size)
        self.num_beams = num_beams
        self.max_answer_chars = max_answer_chars
        self._max_input_tokens = max_input_tokens
        self._model: Any = None
        self._tokenizer: Any = None
        self._torch_device = "cpu"
        self._cache = cache
        self._lock = threading.RLock()  # re-entered by the warm-up generation

    # --- loading ---------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load tokenizer and model (once). Raises ModelUnavailable / CheckpointMismatch with the reason.

        With a static cache it then answers one made-up request through the whole path: on a GPU that compiles the
        decoder step (tens of seconds: 24-28 s for T5-base on an H200). The API warms the generator up at start
        (:meth:`kb.runtime.Runtime.warm_up`), so the first customer does not wait for it.
        """
        with self._lock:  # held through the warm-up generation: a second caller waits instead of compiling too
            if self._model is None:
                self._load()
                if self.static_cache:
                    # A real-looking prompt through generate_batch, not a token or two straight into the model: on
                    # the H200 a first answer took 3.6 s after such a short warm-up, 0.28 s after a real prompt.
                    self.generate_batch([_WARM_UP_REQUEST])

    def _load(self) -> None:
        if not (self.model_dir / "config.json").is_file():
            raise ModelUnavailable(
                f"no seq2seq checkpoint at {self.model_dir}: expected a directory written by save_pretrained "
                "(config.json, weights, tokenizer files); set BINDESK_T5_MODEL_DIR"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            config = AutoConfig.from_pretrained(self.model_dir, local_files_only=True)
        except (OSError, ValueError) as error:
            raise CheckpointMismatch(f"cannot read the model config in {self.model_dir}: {error}") from error
        if not getattr(config, "is_encoder_decoder", False):
            raise CheckpointMismatch(
                f"{self.model_dir} holds a {config.model_type!r} model, not an encoder-decoder (seq2seq) model"
            )
        device = self._resolve_device(torch)
        dtype = torch.float32
        if device.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
            model = AutoModelForSeq2SeqLM.from_pretrained(self.model_dir, local_files_only=True, dtype=dtype)
        except (OSError, ValueError, RuntimeError) as error:
            raise CheckpointMismatch(f"cannot load the seq2seq checkpoint in {self.model_dir}: {error}") from error
        model.to(device).eval()
        self._tokenizer, self._model, self._torch_device = tokenizer, model, device
        log.info("t5 generator loaded from %s on %s (%s)", self.model_dir, device, dtype)

    def _resolve_device(self, torch: Any) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailable(f"t5 device {self.device!r} asked for, but no CUDA device is available")
        return self.device

    @property
    def max_input_tokens(self) -> int:
        """The input budget: as configured, else the model's own limit where it has one, capped at 512."""
        if self._max_input_tokens is not None:
            return self._max_input_tokens
        limits = [DEFAULT_MAX_INPUT_TOKENS]
        tokenizer_limit = getattr(self._tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 100_000:
            limits.append(tokenizer_limit)
        positions = getattr(getattr(self._model, "config", None), "n_positions", None)
        if isinstance(positions, int) and positions > 0:
            limits.append(positions)
        return min(limits)

    # --- generation ------------------------------------------------------------------------------------

    def input_text(self, request: GenerationRequest) -> str:
        """The exact model input for ``request`` (after warm_up): its screened passages, renumbered from 1."""
        self.warm_up()
        screened = screen_request(request).request
        return build_seq2seq_input(screened, self._count_tokens, self.max_input_tokens)

    def _count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def static_cache(self) -> bool:
        """Whether generation uses a fixed-size key/value cache: ``cache="static"``, or ``"auto"`` on a GPU.

        Why: one answer at a time, an eager decoder step is bound by kernel launches, not by the GPU (T5-base on
        an H200: 12-14 ms a token, about what 16 CPU cores manage). With a static cache transformers compiles the
        decoder step on CUDA (1.85 -> 0.24 s for a 128-token answer, 7.9x; batch 32 3.5x: benchmarks/RESULTS.md,
        section 3); inputs are padded to the full budget so every request has the same shapes and each batch size
        compiles once. On a CPU in float32 the outputs are the same tokens as with the dynamic cache (a unit
        test); on the GPU in bfloat16 the compiled decoder was timed, not compared token for token.
        """
        return self._cache == "static" or (self._cache == "auto" and self._torch_device.startswith("cuda"))

    def _encode(self, requests: Sequence[GenerationRequest]) -> Any:
        texts = [self.input_text(r) for r in requests]
        encoded = self._tokenizer(
            texts,
            return_tensors="pt",
            padding="max_length" if self.static_cache else True,
            truncation=True,
            max_length=self.max_input_tokens,
        )
        return encoded.to(self._torch_device)

    def _generation_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams}
        if self.static_cache:
            options["cache_implementation"] = "static"
        return {**options, "do_sample": False}

    def generate(self, request: GenerationRequest) -> Answer:
        return self.generate_batch([request])[0]

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Answer]:
        """Grounded answers for ``requests`` in order, ``batch_size`` at a time, citing each request's own passage
        numbers. Passages that cannot be evidence are screened out first (:func:`guardrails.screen_request`)."""
        screened = [screen_request(r) for r in requests]
        answers = []
        for each, text in zip(screened, self.generate_text(requests), strict=True):
            grounder = self._grounder(each.request)
            grounder.feed(text)
            grounder.finish()
            answers.append(each.restore_answer(grounder.answer()))
        return answers

    def _grounder(self, request: GenerationRequest) -> StreamingGrounder:
        return StreamingGrounder(request.passages, max_chars=self.max_answer_chars, context=question_context(request))

    def generate_text(self, requests: Sequence[GenerationRequest]) -> list[str]:
        """The model's raw outputs (markers included, nothing dropped), ``batch_size`` requests at a time."""
        self.warm_up()
        import torch

        texts: list[str] = []
        for start in range(0, len(requests), self.batch_size):
            with torch.inference_mode():
                output = self._model.generate(
                    **self._encode(requests[start : start + self.batch_size]), **self._generation_options()
                )
            texts += self._tokenizer.batch_decode(output, skip_special_tokens=True)
        return texts

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Plain-text pieces, one per grounded sentence, as soon as the model has finished it."""
        return answer_pieces(self.stream_sentences(request))

    def stream_sentences(self, request: GenerationRequest) -> Iterator[AnswerSentence]:
        """Grounded sentences with citations as soon as the model has finished each (TextIteratorStreamer)."""
        self.warm_up()
        import torch
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(
            self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=_STREAM_TIMEOUT_SECONDS
        )
        screened = screen_request(request)
        inputs = self._encode([request])
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self._model.generate(**inputs, **self._generation_options(), streamer=streamer)
            except Exception as error:  # surfaced in the consuming thread below
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=run, name="t5-stream", daemon=True)
        worker.start()
        grounder = self._grounder(screened.request)
        for sentence in stream_grounded(iter(streamer), grounder):
            yield screened.restore(sentence)
        worker.join()
        if failure:
            raise ModelUnavailable(f"t5 generation failed: {failure[0]}") from failure[0]
