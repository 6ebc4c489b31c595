"""Regular-expression recognisers for the identifiers customers type, and the masks for personal data.

Each recogniser yields ``(type, value, norm, start, end)`` candidates; :mod:`kg.extract` resolves overlaps.
E-mail addresses and phone numbers are masked here, at recognition time, so an unmasked value never
reaches an :class:`~kg.extract.Entity` and therefore never reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple


class Candidate(NamedTuple):
    type: str
    value: str
    norm: str
    start: int
    end: int


EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24})\b")
# An optional country code, then groups of digits with separators; 9-15 digits in all (checked below).
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w-])"
    r"|(?<![\w+])\+\d{9,15}(?!\w)"
)
_PHONE_CUE = re.compile(r"(?:phone|call|tel|mobile|cell|number|reach|text|whatsapp|contact)\W*$", re.IGNORECASE)

_IS = r"(?:\s+(?:is|was|=))?"  # "my order number is 12345"
# Error codes: "0x80070005", "E-101"/"E101"/"ERR-42"/"F07", and "error 404" / "error code: 43" / "code LC-12".
HEX_CODE = re.compile(r"\b0x[0-9A-Fa-f]{4,16}\b")
_CODE_PREFIX = r"(?:E|ER|ERR|EC|F|H|C|P|LE|OE|DE|UE|IE|SE|PE|LC|TE)"
LETTER_CODE = re.compile(rf"\b(?:{_CODE_PREFIX}-\d{{1,4}}|{_CODE_PREFIX}\d{{2,4}})[A-Z]?\b")
CUED_CODE = re.compile(
    r"\b(?:error|err|fault|code|error\s+code|fault\s+code)\s*(?:number|no\.?|#)?" + _IS + r"\s*[:#]?\s*"
    r"(0x[0-9A-Fa-f]{4,16}|[A-Za-z]{0,3}-?\d{1,6}[A-Za-z]?)\b",
    re.IGNORECASE,
)
# Quantities with a unit ("100Mbps", "2400mAh", "55in") look like model numbers but are not.
_QUANTITY = re.compile(r"\d+(?:[kmgt]?(?:b|bps|hz|w|wh|v|a|ah|mah)|mm|cm|in|inch|fps|p|k|x)", re.IGNORECASE)
ORDER = re.compile(
    r"\b(?:order|purchase|invoice|booking|confirmation)\s*(?:number|no\.?|num|id|#)?" + _IS + r"\s*[:#]?\s*"
    r"(#?[A-Za-z]{0,4}-?\d[\dA-Za-z-]{3,24})\b",
    re.IGNORECASE,
)
HASH_ORDER = re.compile(r"(?<![\w#])#(\d{5,20})\b")
SERIAL = re.compile(
    r"\b(?:serial|s/n|sn)\s*(?:number|no\.?|num|#)?" + _IS + r"\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9-]{5,30})\b",
    re.IGNORECASE,
)
# A menu path as manuals write it: "Settings > General > Network". Steps are capitalised words, with
# the small words menus use in between ("Sound and Vibration", "Power On with Mobile").
_STEP = r"[A-Z0-9][\w&'’+-]*(?:[ ](?:[A-Z0-9&][\w&'’+-]*|and|of|on|off|to|for|with|in|the|a))*"
MENU_PATH = re.compile(rf"{_STEP}(?:\s*(?:>|»|→)\s*{_STEP})+")
_STEP_FILLER = {"and", "of", "on", "to", "for", "with", "in", "the", "a", "go", "open", "select", "tap", "press"}


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: the domain stays (it tells the agent which
    mail provider), the person does not."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain.lower()}"


def mask_phone(value: str) -> str:
    """Every digit but the last two replaced: ``+1 555 123 4567`` -> ``+* *** *** **67``."""
    digits_seen = 0
    total = sum(c.isdigit() for c in value)
    out = []
    for c in value:
        if c.isdigit():
            digits_seen += 1
            out.append(c if digits_seen > total - 2 else "*")
        else:
            out.append(c)
    return "".join(out)


def code_norm(value: str) -> str:
    """Lower case, letters and digits only: how codes and numbers meet across spellings ("E-12", "e12")."""
    return re.sub(r"[^0-9a-z]", "", value.lower())


def emails(text: str) -> Iterator[Candidate]:
    for m in EMAIL.finditer(text):
        masked = mask_email(m.group())
        yield Candidate("email", masked, masked.lower(), m.start(), m.end())


def phones(text: str) -> Iterator[Candidate]:
    for m in PHONE.finditer(text):
        value = m.group()
        digits = sum(c.isdigit() for c in value)
        if not 9 <= digits <= 15:
            continue
        separated = bool(re.search(r"[\s.()-]", value)) or value.startswith("+")
        # A long bare digit run is only a phone number when something says so; otherwise it is an id.
        if not separated and not _PHONE_CUE.search(text[: m.start()]):
            continue
        # Dates such as 2024-01-15 are not phone numbers.
        if re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}", value):
            continue
        masked = mask_phone(value)
        yield Candidate("phone", masked, re.sub(r"[^0-9*]", "", masked), m.start(), m.end())


def error_codes(text: str) -> Iterator[Candidate]:
    for m in HEX_CODE.finditer(text):
        yield Candidate("error_code", m.group(), m.group().lower(), m.start(), m.end())
    for m in CUED_CODE.finditer(text):
        code = m.group(1)
        if code.isalpha():
            continue
        # The mention spans the cue ("error 404"); the value is the code alone.
        yield Candidate("error_code", code, code_norm(code), m.start(), m.end(1))
    for m in LETTER_CODE.finditer(text):
        yield Candidate("error_code", m.group(), code_norm(m.group()), m.start(), m.end())


def orders(text: str) -> Iterator[Candidate]:
    for m in ORDER.finditer(text):
        value = m.group(1).lstrip("#")
        if any(c.isdigit() for c in value):
            yield Candidate("order_number", value, code_norm(value), m.start(), m.end(1))
    for m in HASH_ORDER.finditer(text):
        yield Candidate("order_number", m.group(1), m.group(1), m.start(), m.end(1))


def serials(text: str) -> Iterator[Candidate]:
    for m in SERIAL.finditer(text):
        value = m.group(1)
        if sum(c.isdigit() for c in value) >= 2:
            yield Candidate("serial_number", value, code_norm(value), m.start(), m.end(1))


def is_model_number(token: str) -> bool:
    """UN55TU8000, SM-G973F, QN65Q80T, WF45R6100AW: capitals and digits, two of each, five or more chars.

    Lower-case tokens ("un55tu8000") count when they hold at least three digits and two letters, so that
    "covid19" or "mp3" do not.
    """
    core = token.replace("-", "")
    if len(core) < 5 or not core.isalnum() or len(token) > 24:
        return False
    digits = sum(c.isdigit() for c in core)
    letters = len(core) - digits
    if digits < 2 or letters < 2 or core.lower().startswith("0x") or _QUANTITY.fullmatch(core):
        return False
    if core.isupper() or (any(c.isupper() for c in core) and not core[1:].islower()):
        return True
    return digits >= 3 and core.islower()


def models(text: str) -> Iterator[Candidate]:
    for m in re.finditer(r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])", text):
        if is_model_number(m.group()):
            yield Candidate("model", m.group().upper(), m.group().lower(), m.start(), m.end())


def menu_paths(text: str) -> Iterator[Candidate]:
    """A whole path is a ``menu``; its last step is the ``setting`` it leads to."""
    for m in MENU_PATH.finditer(text):
        parts = [p.strip() for p in re.split(r"\s*(?:>|»|→)\s*", m.group())]
        # "Go to Settings > ..." : the words before the first step belong to the sentence, not the menu.
        first = parts[0].split(" ")
        while len(first) > 1 and first[0].lower() in _STEP_FILLER:
            first = first[1:]
        last = parts[-1].split(" ")
        while len(last) > 1 and last[-1].lower() in _STEP_FILLER:
            last = last[:-1]
        parts[0], parts[-1] = " ".join(first), " ".join(last)
        value = " > ".join(parts)
        start = m.start() + m.group().find(parts[0])
        end = m.start() + m.group().rfind(parts[-1]) + len(parts[-1])
        yield Candidate("menu", value, " > ".join(p.lower() for p in parts), start, end)


def code_and_model_norms(text: str) -> frozenset[str]:
    """The error codes and model numbers ``text`` names, normalised as the knowledge graph recognises them
    ("E-12" and "E12" meet; "error 404" counts, "3000" and "5G" do not)."""
    return error_code_norms(text) | model_norms(text)


_LINE_MARKERS = " \t-*\u2022|#>"
_FIRST_WORD = re.compile(r"[\s|:,;(]+")


def opening_codes(line: str) -> frozenset[str]:
    """The code or model number ``line`` opens with, past list and table markers ("E-06 | Grinder blocked | ...",
    "- E-21: no internet ..."): the line is its entry, where "Many errors, such as E-04, E-06 and E-07, can be
    fixed at home" only mentions them. Norms as :func:`code_and_model_norms` gives them."""
    first_word = _FIRST_WORD.split(line.lstrip(_LINE_MARKERS), maxsplit=1)[0]
    return code_and_model_norms(first_word)


def error_code_norms(text: str) -> frozenset[str]:
    """The error codes alone of :func:`code_and_model_norms` (no model numbers)."""
    return frozenset(found.norm for found in error_codes(text))


def model_norms(text: str) -> frozenset[str]:
    """The model numbers alone of :func:`code_and_model_norms`."""
    return frozenset(found.norm for found in models(text))


def identifiers(text: str) -> Iterator[Candidate]:
    """Every pattern candidate in ``text`` (overlapping; the caller picks)."""
    yield from emails(text)
    yield from phones(text)
    yield from orders(text)
    yield from serials(text)
    yield from error_codes(text)
    yield from models(text)
    yield from menu_paths(text)


def redact(text: str) -> str:
    """``text`` with every e-mail address and phone number replaced by its mask (for storing a turn)."""
    found = sorted([*emails(text), *phones(text)], key=lambda c: c.start)
    out: list[str] = []
    pos = 0
    for cand in found:
        if cand.start < pos:
            continue
        out.append(text[pos : cand.start])
        out.append(cand.value)
        pos = cand.end
    out.append(text[pos:])
    return "".join(out)
