"""docs/configuration.md documents every setting an operator can set, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def _named_in_doc() -> set[str]:
    return set(re.findall(r"`BINDESK_([A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))


def test_every_setting_is_documented_under_its_environment_variable() -> None:
    missing = sorted(name.upper() for name in Settings.model_fields if name.upper() not in _named_in_doc())
    assert missing == [], f"settings missing from docs/configuration.md: {missing}"


def test_the_doc_names_no_setting_that_does_not_exist() -> None:
    unknown = sorted(_named_in_doc() - {name.upper() for name in Settings.model_fields})
    assert unknown == [], f"docs/configuration.md names settings that do not exist: {unknown}"
