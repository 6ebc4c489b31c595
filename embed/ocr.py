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


class RapidOcrReader:
    """:class:`embed.protocol.TextReader` on RapidOCR. Safe to share between threads of one process (calls are
    serialised: the ONNX sessions already use every thread they are given).

    ``cpu_threads`` 0 lets onnxruntime choose; ``min_confidence`` drops lines the recogniser is unsure of.
    """

    def __init__(self, cpu_threads: int = 0, min_confidence: float = 0.5) -> None:
        self.cpu_threads = cpu_threads
        self.min_confidence = min_confidence
        self._engine: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._engine is None:
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
            self._engine = engine
            log.info("RapidOCR ready (threads=%s)", threads)
        return self._engine

    def read(self, image: Image.Image) -> OcrResult:
        """The text in ``image``, one line per visual line, lines top to bottom and left to right."""
        rgb = np.asarray(image.convert("RGB"))
        # RapidOCR takes numpy arrays as BGR (OpenCV order).
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            output = self._load()(bgr)
        texts = list(getattr(output, "txts", None) or ())
        if not texts:
            return OcrResult(text="", lines=[], mean_confidence=0.0)
        scores = [float(s) for s in (getattr(output, "scores", None) or [1.0] * len(texts))]
        boxes = np.asarray(output.boxes, dtype=np.float32).reshape(len(texts), -1, 2)
        lines = reading_order(boxes, texts)
        return OcrResult(text="\n".join(lines), lines=lines, mean_confidence=float(np.mean(scores)))


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
