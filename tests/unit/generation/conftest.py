"""Shared fixtures for the generation unit tests: small hand-written knowledge-base passages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from generation.protocol import GenerationRequest, Passage

MakePassages = Callable[..., list[Passage]]

RESET_TEXT = (
    "Factory reset. To reset the router to factory settings, hold the reset button on the back for ten seconds. "
    "The power light blinks orange while the router restarts. All custom settings, including the Wi-Fi password, "
    "are erased by a factory reset."
)
WARRANTY_TEXT = (
    "Warranty. The router is covered by a two-year limited warranty from the date of purchase. "
    "Keep your receipt as proof of purchase."
)
PARENTAL_TEXT = (
    "Parental controls. Open the app and choose Family to set schedules for each device. "
    "You can pause the internet for a single device at any time."
)


@pytest.fixture
def make_passages() -> MakePassages:
    """Passages numbered from 1 in the order given, best first."""

    def make(*texts: str, titles: list[str] | None = None) -> list[Passage]:
        return [
            Passage(
                number=i,
                chunk_id=f"chunk-{i}",
                document_id=f"doc-{i}",
                source=f"manual-{i}.pdf",
                title=(titles[i - 1] if titles else ""),
                page=i,
                text=text,
                score=1.0 / i,
            )
            for i, text in enumerate(texts, start=1)
        ]

    return make


@pytest.fixture
def router_passages(make_passages: MakePassages) -> list[Passage]:
    return make_passages(RESET_TEXT, WARRANTY_TEXT, PARENTAL_TEXT, titles=["Reset", "Warranty", "Parental controls"])


def ask(question: str, passages: list[Passage], history: list[tuple[str, str]] | None = None) -> GenerationRequest:
    return GenerationRequest(question=question, history=history or [], passages=passages)


@pytest.fixture
def request_for() -> Callable[..., GenerationRequest]:
    return ask
