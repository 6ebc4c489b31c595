"""What kind of fact a question asks for, and whether a sentence states one: a frequency, a duration, a
quantity in its unit (power in W, loudness in dB, ...) or a price.

"And how often should I do that?" after the descaling steps shares no word with "about every 6 weeks" (its
subject is the conversation's, its own words a frame), so the previous answer's steps, which share the carried
words, were quoted again; "and how much power does it use?" after the loudness answer got the loudness again
beside "The machine uses 1450 W while heating". The extractive generator prefers sentences that state the kind
of fact asked for (:attr:`generation.extractive.ExtractiveConfig.answer_type_boost`).
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal[
    "frequency", "duration", "power", "loudness", "temperature", "voltage", "weight", "volume", "price"
]

_NUMBER_WORDS = r"(?:\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|thirty)"
_UNITS_OF_TIME = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?)"

_ASKS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("frequency", re.compile(r"\bhow\s+(?:often|frequently|many\s+times)\b", re.IGNORECASE)),
    ("duration", re.compile(r"\bhow\s+long\b|\bhow\s+much\s+time\b", re.IGNORECASE)),
    ("power", re.compile(r"\bhow\s+much\s+(?:power|energy|electricity)\b|\b(?:wattage|power\s+consumption)\b", re.I)),
    ("loudness", re.compile(r"\bhow\s+(?:loud|noisy)\b|\bnoise\s+level\b", re.IGNORECASE)),
    ("temperature", re.compile(r"\bhow\s+(?:hot|warm|cold)\b|\bwhat\s+temperature\b", re.IGNORECASE)),
    ("voltage", re.compile(r"\bwhat\s+voltage\b|\bhow\s+many\s+volts\b", re.IGNORECASE)),
    (
        "weight",
        re.compile(
            r"\bhow\s+heavy\b|\bwhat\s+(?:does\s+it\s+weigh|weight)\b|\bhow\s+much\s+does\s+\w+\s+weigh\b", re.I
        ),
    ),
    (
        "volume",
        re.compile(
            r"\bhow\s+much\s+(?:water|milk|coffee|liquid)\b|\bwhat\s+capacity\b|\bhow\s+big\s+is\s+the\s+tank\b", re.I
        ),
    ),
    (
        "price",
        re.compile(
            r"\bhow\s+much\s+(?:is|are|does|do|will|would)\s+(?:it|they|this|that|the|a|an)\s+\w+(?:\s+\w+)?\s*"
            r"(?:cost)?\s*\??\s*$|\bhow\s+much\s+for\b|\b(?:cost|price|fee)s?\b",
            re.IGNORECASE,
        ),
    ),
)

_STATES: dict[AnswerType, re.Pattern[str]] = {
    "frequency": re.compile(
        r"\bevery\s+(?:" + _NUMBER_WORDS + r"\s+)?(?:day|week|month|year|use|time|morning|evening|\d)|"
        r"\b(?:once|twice)\s+(?:a|an|per|every)\b|\b(?:daily|weekly|monthly|yearly|annually|hourly)\b|\bafter\s+(?:every|each)\b|"
        r"\b\d+\s+times\s+(?:a|per)\b|\b(?:per|a|each)\s+(?:day|week|month|year)\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        r"\b" + _NUMBER_WORDS + r"(?:\s*(?:-|to)\s*\d+)?[\s-]*" + _UNITS_OF_TIME + r"\b|"
        r"\b(?:half\s+an?|an?)\s+(?:hour|minute|day|week|month|year)\b",
        re.IGNORECASE,
    ),
    "power": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:w|kw|kwh|watts?)(?![\w])", re.IGNORECASE),
    "loudness": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:db|dba|decibels?)(?![\w])", re.IGNORECASE),
    "temperature": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:°\s*[cf]?|degrees?)", re.IGNORECASE),
    "voltage": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:-\s*\d+\s*)?(?:v|volts?)(?![\w])", re.IGNORECASE),
    "weight": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:kg|grams?|lbs?)(?![\w])", re.IGNORECASE),
    "volume": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:ml|l|litres?|liters?|cups?|oz)(?![\w])", re.IGNORECASE),
    "price": re.compile(
        r"[$€£]\s?\d|\b(?:usd|eur|gbp)\s?\d|\b\d+(?:[.,]\d+)?\s*(?:usd|eur|gbp|dollars?|euros?|pounds?|cents?)\b|"
        r"\bcosts?\s+(?:about\s+|only\s+|just\s+)?\d|\bfree\s+of\s+charge\b|"
        r"\b(?:costs?|is|are)\s+free\b",
        re.IGNORECASE,
    ),
}


# "How long is the power cord?" asks for a length, not a duration.
_LENGTH = re.compile(
    r"\bhow\s+long\s+(?:is|are)\s+(?:\w+\s+){0,3}?(?:cord|cable|hose|tube|pipe|wire|lead|strap)s?\b", re.IGNORECASE
)


def asked_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, when it is one of these; None for any other question."""
    kind = next((kind for kind, pattern in _ASKS if pattern.search(question)), None)
    return None if kind == "duration" and _LENGTH.search(question) else kind


def states(kind: AnswerType, sentence: str) -> bool:
    """Whether ``sentence`` states a fact of that kind ("about every 6 weeks", "1450 W", "25 minutes")."""
    return bool(_STATES[kind].search(sentence))
