"""Filter expressions: built from parameters, every value one literal, every expression scoped to a workspace.

The rendered strings are checked by parsing them with milvus-lite's own expression parser (pure Python, no
server), so "stays one literal" is verified by the parser the store really talks to, not by string matching.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from milvus_lite.search.filter import ast
from milvus_lite.search.filter.parser import parse_expr

from core.errors import InvalidInput
from retrieval import filters as F

HOSTILE = [
    'x" or workspace != "',
    "x' or workspace != '",
    'x\\" or 1 == 1 or "',
    "a\\",
    'quote"inside',
    "line\nbreak",
    "tab\tand\rreturn",
    "ünïcødé 東京 🙂",
    "",
]


def _nodes(node: object) -> Iterator[object]:
    """Every node of a parsed expression tree (the AST is made of frozen dataclasses)."""
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            child = getattr(node, f.name)
            for item in child if isinstance(child, tuple) else (child,):
                if dataclasses.is_dataclass(item):
                    yield from _nodes(item)


def _string_literals(expression: str) -> list[str]:
    """The string constants of ``expression`` as milvus-lite parses it; fails if it parsed to an ``or``."""
    tree = parse_expr(expression)
    nodes = list(_nodes(tree))
    assert not any(isinstance(n, ast.Or | ast.Not) for n in nodes), expression
    return [n.value for n in nodes if isinstance(n, ast.StringLit)]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_parses_back_to_exactly_itself(value: str) -> None:
    expression = F.eq("document_id", value)
    assert _string_literals(expression) == [value]


@pytest.mark.parametrize("value", HOSTILE)
def test_scoped_filter_keeps_the_workspace_clause_whole(value: str) -> None:
    expression = F.scoped("ws-1", F.eq("source", value))
    assert expression.startswith('(workspace == "ws-1") and (')
    assert _string_literals(expression) == ["ws-1", value]


def test_hostile_workspace_is_one_literal() -> None:
    hostile = 'ws" or workspace != "'
    assert _string_literals(F.scoped(hostile)) == [hostile]


def test_control_characters_other_than_whitespace_escapes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="control character"):
        F.quote("nul\x00byte")
    with pytest.raises(InvalidInput, match="control character"):
        F.eq("document_id", "bell\x07")


def test_field_names_come_from_the_allow_list() -> None:
    with pytest.raises(InvalidInput, match="not a filterable field"):
        F.eq("workspace or 1", "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not a filterable field"):
        F.literal("dense", "x")


def test_values_must_match_the_field_type() -> None:
    assert F.eq("version", 3) == "version == 3"
    assert F.eq("has_visual", True) == "has_visual == true"
    with pytest.raises(InvalidInput):
        F.eq("version", "3 or 1 == 1")
    with pytest.raises(InvalidInput):
        F.eq("version", True)  # a bool is not a version number
    with pytest.raises(InvalidInput):
        F.eq("document_id", 7)


def test_in_list_quotes_each_value() -> None:
    values = ['a"b', "c", 'd" or "']
    expression = F.in_("chunk_id", values)
    assert _string_literals(expression) == values


def test_every_expression_needs_a_workspace() -> None:
    for bad in ("", "   "):
        with pytest.raises(InvalidInput, match="workspace"):
            F.scoped(bad, F.eq("document_id", "d"))


def test_empty_conjunction_is_refused_rather_than_matching_everything() -> None:
    with pytest.raises(InvalidInput):
        F.and_("", "")


def test_modality_clause_checks_names() -> None:
    assert F.modality_clause(None) == ""
    assert F.modality_clause(["image", "image"]) == 'modality in ["image"]'
    with pytest.raises(InvalidInput, match="unknown modality"):
        F.modality_clause(["video"])


def test_the_check_above_would_catch_naive_formatting() -> None:
    """The same hostile value pasted in with an f-string does turn into an ``or`` (so the checks can fail)."""
    naive = f'document_id == "{HOSTILE[0]}"'
    with pytest.raises(AssertionError):
        _string_literals(naive)
