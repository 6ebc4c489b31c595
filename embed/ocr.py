"""OCR with RapidOCR 3.x (PP-OCR ONNX models bundled in the wheel, run by onnxruntime on the CPU).

Only the default models are used: naming any other model makes RapidOCR download it, which fails offline.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PIL import Image

from core.errors import ModelUnavailable
from core.media import OcrResult

log = logging.getLogger(__name__)


# RapidOCR's detector enlarges an image until its short side is this long (its default, kept for small images:
# a 348-px shop photo read at its own size loses most of its label text).
DETECTION_SHORT_SIDE = 736
# RapidOCR shrinks anything longer than this before detection and recognition (its Global.max_side_len).
LIBRARY_MAX_SIDE = 2000


class _SharedEngine:
    """One RapidOCR engine, loaded on first use, and the lock that serialises calls to it."""

    def __init__(self, cpu_threads: int, min_confidence: float) -> None:
        self.cpu_threads = cpu_threads
        self.min_confidence = min_confidence
        self.engine: Any = None
        self.lock = threading.Lock()

    def load(self) -> Any:
        """The engine; call with :attr:`lock` held."""
        if self.engine is None:
            threads = self.cpu_threads if self.cpu_threads > 0 else -1
            params = {
                "Global.log_level": "error",
                "Global.text_score": self.min_confidence,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1 if threads > 0 else -1,
            }
            try:
                from rapidocr import RapidOCR

                engine = RapidOCR(params=params)
                engine(np.full((32, 32, 3), 255, dtype=np.uint8))  # the ONNX sessions load on first use
            except Exception as exc:
                raise ModelUnavailable(f"RapidOCR could not load its bundled models: {exc}") from exc
            self.engine = engine
            log.info("RapidOCR ready (threads=%s)", threads)
        return self.engine


class RapidOcrReader:
    """:class:`embed.protocol.TextReader` on RapidOCR. Safe to share between threads of one process (calls are
    serialised: the ONNX sessions already use every thread they are given).

    ``cpu_threads`` 0 lets onnxruntime choose; ``min_confidence`` drops lines the recogniser is unsure of.
    ``max_detection_side`` bounds the longest side of the image the text *detector* sees (recognition still
    reads each line from the image at up to the library's 2000 px). Detection is most of the cost and grows with
    the pixel count: left to itself, RapidOCR turns a 1024 x 300 photo into a 2512 x 736 detector input. The
    default keeps the library's own bound (documents, scanned pages); customer photos use :meth:`for_photos`.
    """

    def __init__(
        self, cpu_threads: int = 0, min_confidence: float = 0.5, max_detection_side: int = LIBRARY_MAX_SIDE
    ) -> None:
        self.max_detection_side = max_detection_side
        self._shared = _SharedEngine(cpu_threads, min_confidence)

    def for_photos(self, max_detection_side: int) -> RapidOcrReader:
        """A reader on this one's engine (loaded once, calls still serialised) with another detector bound."""
        twin = RapidOcrReader(max_detection_side=max_detection_side)
        twin._shared = self._shared
        return twin

    @property
    def loaded(self) -> bool:
        return self._shared.engine is not None

    def warm_up(self) -> None:
        with self._shared.lock:
            self._shared.load()

    def read(self, image: Image.Image) -> OcrResult:
        """The text in ``image``, one line per visual line, lines top to bottom and left to right."""
        rgb = np.asarray(image.convert("RGB"))
        # RapidOCR takes numpy arrays as BGR (OpenCV order).
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._shared.lock:
            engine = self._shared.load()
            _bound_detection(engine, bgr.shape[0], bgr.shape[1], self.max_detection_side)
            output = engine(bgr)
        texts = list(getattr(output, "txts", None) or ())
        if not texts:
            return OcrResult(text="", lines=[], mean_confidence=0.0)
        scores = [float(s) for s in (getattr(output, "scores", None) or [1.0] * len(texts))]
        boxes = np.asarray(output.boxes, dtype=np.float32).reshape(len(texts), -1, 2)
        lines = reading_order(boxes, texts)
        return OcrResult(text="\n".join(lines), lines=lines, mean_confidence=float(np.mean(scores)))


def detection_limit(height: int, width: int, max_side: int) -> tuple[str, int]:
    """The detector's resize rule for one image, as RapidOCR's ``(limit_type, limit_side_len)``: enlarge the
    short side to :data:`DETECTION_SHORT_SIDE` as the library does, unless that would make the long side exceed
    ``max_side``; then fit the long side to ``max_side`` instead."""
    shrink = min(1.0, LIBRARY_MAX_SIDE / max(height, width))  # the library's own first step
    short, long = min(height, width) * shrink, max(height, width) * shrink
    enlarge = max(1.0, DETECTION_SHORT_SIDE / short)
    if long * enlarge <= max_side:
        return "min", DETECTION_SHORT_SIDE
    return "max", max_side


def _bound_detection(engine: Any, height: int, width: int, max_side: int) -> None:
    # rapidocr 3.x builds the detector's resize step from these two attributes on every call (TextDetector.
    # get_preprocess); the engine's config offers one fixed rule for all images, and we want it per image.
    limit_type, side = detection_limit(height, width, max_side)
    detector = engine.text_det
    detector.limit_type, detector.limit_side_len = limit_type, side


def reading_order(boxes: np.ndarray, texts: list[str]) -> list[str]:
    """Group text boxes into visual lines (vertical centres within half a box height) and read each line
    left to right, lines top to bottom."""
    tops, bottoms = boxes[:, :, 1].min(axis=1), boxes[:, :, 1].max(axis=1)
    lefts = boxes[:, :, 0].min(axis=1)
    centres, heights = (tops + bottoms) / 2, np.maximum(bottoms - tops, 1.0)
    rows: list[list[int]] = []
    for index in np.argsort(centres, kind="stable"):
        row = rows[-1] if rows else None
        if row is not None and abs(centres[index] - np.mean(centres[row])) <= 0.5 * np.median(heights[row]):
            row.append(int(index))
        else:
            rows.append([int(index)])
    lines = []
    for row in rows:
        words = [texts[i].strip() for i in sorted(row, key=lambda i: lefts[i]) if texts[i].strip()]
        if words:
            lines.append(" ".join(words))
    return lines
