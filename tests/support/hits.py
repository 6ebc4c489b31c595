"""Hits for unit tests of ranking and passage logic, where only ids, scores and text matter."""

from __future__ import annotations

from retrieval.protocol import Hit


def text_hit(chunk_id: str, score: float, document_id: str = "doc", text: str | None = None) -> Hit:
    """A text chunk's hit with no evidence yet (empty ``ranks``/``scores``); ``text`` defaults to
    "text of <chunk_id>"."""
    return Hit(
        chunk_id=chunk_id,
        document_id=document_id,
        source=f"{document_id}.txt",
        title="T",
        heading="",
        page=None,
        modality="text",
        text=f"text of {chunk_id}" if text is None else text,
        score=score,
    )
