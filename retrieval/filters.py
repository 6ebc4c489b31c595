"""Milvus boolean filter expressions, built from parameters and never from raw user text.

milvus-lite 3.2 rejects ``filter_params`` templates, so every value is rendered into the expression here,
through exactly one quoting function (:func:`quote`). Field names come from an allow-list; values are typed
(strings quoted and escaped, integers rendered by ``int``), so a hostile value such as ``x" or workspace != "``
stays one string literal. Every expression the store sends begins with the workspace clause
(:func:`scoped`): no search, count or delete can reach another tenant's rows, and a partition-key filter
lets Milvus prune to that tenant's partition.

String escaping follows the C-style escapes both milvus-lite's tokenizer and Milvus's own parser accept
(``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\t``); other control characters are refused, not escaped, because the
two parsers disagree about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from core.errors import InvalidInput

FilterField = Literal[
    "workspace", "document_id", "chunk_id", "version", "ordinal", "modality", "source", "title", "page", "has_visual"
]

# Field -> the Python type its values must have. Nothing outside this table can appear in an expression.
FIELD_TYPES: dict[str, type] = {
    "workspace": str,
    "document_id": str,
    "chunk_id": str,
    "version": int,
    "ordinal": int,
    "modality": str,
    "source": str,
    "title": str,
    "page": int,
    "has_visual": bool,
}

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Milvus expressions are parsed on the server; keep them bounded so a huge id list cannot stall it.
MAX_IN_VALUES = 16_384

Value = str | int | bool
KNOWN_MODALITIES = frozenset({"text", "image", "audio"})


def quote(value: str) -> str:
    """``value`` as a double-quoted Milvus string literal. The only place a string enters an expression."""
    if not isinstance(value, str):
        raise InvalidInput(f"expected a string filter value, got {type(value).__name__}")
    out: list[str] = ['"']
    for ch in value:
        escaped = _ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise InvalidInput(f"filter value contains control character U+{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _field(name: str) -> type:
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise InvalidInput(f"{name!r} is not a filterable field") from None


def literal(field: str, value: Value) -> str:
    """``value`` rendered as a literal of ``field``'s type (checked, so an int field never gets a string)."""
    expected = _field(field)
    if expected is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"filter on {field} needs a boolean, got {type(value).__name__}")
        return "true" if value else "false"
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"filter on {field} needs an integer, got {type(value).__name__}")
        return str(int(value))
    if not isinstance(value, str):
        raise InvalidInput(f"filter on {field} needs a string, got {type(value).__name__}")
    return quote(value)


def eq(field: FilterField, value: Value) -> str:
    return f"{field} == {literal(field, value)}"


def in_(field: FilterField, values: Iterable[Value]) -> str:
    """``field in [...]``; an empty list matches nothing (Milvus accepts ``in []``)."""
    return _membership(field, "in", values)


def not_in(field: FilterField, values: Iterable[Value]) -> str:
    """``field not in [...]``; an empty list matches everything."""
    return _membership(field, "not in", values)


def _membership(field: FilterField, operator: str, values: Iterable[Value]) -> str:
    rendered = [literal(field, v) for v in values]
    if len(rendered) > MAX_IN_VALUES:
        raise InvalidInput(f"at most {MAX_IN_VALUES} values in one filter, got {len(rendered)}")
    return f"{field} {operator} [{', '.join(rendered)}]"


def and_(*clauses: str) -> str:
    """Conjunction of clauses made by this module (each parenthesised, so precedence cannot leak)."""
    parts = [c for c in clauses if c]
    if not parts:
        raise InvalidInput("an empty filter would match every tenant's rows")
    return " and ".join(f"({c})" for c in parts)


def scoped(workspace_id: str, *clauses: str) -> str:
    """The workspace clause first, then ``clauses``: the only way the store builds a filter."""
    if not isinstance(workspace_id, str) or not workspace_id.strip():
        raise InvalidInput("a workspace id is required for every vector-store call")
    return and_(eq("workspace", workspace_id), *clauses)


def modality_clause(modalities: Sequence[str] | None) -> str:
    """Restrict to ``modalities`` (None or empty: no restriction)."""
    if not modalities:
        return ""
    unknown = set(modalities) - KNOWN_MODALITIES
    if unknown:
        raise InvalidInput(f"unknown modality {sorted(unknown)}; expected some of {sorted(KNOWN_MODALITIES)}")
    return in_("modality", list(dict.fromkeys(modalities)))
