"""Rules that decide before the evidence does: the customer wants a person, the subject is sensitive, the
turn is small talk. Plain patterns on purpose: they must be predictable, explainable and fast."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

EscalationReason = Literal["no_evidence", "customer_asked_for_human", "out_of_scope", "repeated_failure", "sensitive"]

_HUMAN = re.compile(
    r"\b(?:(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|some|the)?\s*(?:real\s+|live\s+)?"
    r"(?:person|human|agent|someone|representative|rep|operator|manager|supervisor|people)"
    r"|(?:real|live|human)\s+(?:person|agent|being|support)"
    r"|(?:transfer|connect|put)\s+me\s+(?:to|through|with)"
    r"|(?:get|want|need)\s+(?:me\s+)?(?:a|an)\s+(?:human|person|agent|representative)"
    r"|customer\s+service\s+(?:agent|rep|representative)"
    r"|not\s+(?:a\s+)?(?:bot|robot|machine))\b",
    re.IGNORECASE,
)

# Subjects where a wrong automatic answer costs money, safety or legal standing: a person decides.
_SENSITIVE = {
    "refund": r"\brefund(?:s|ed|ing)?\b|\bmoney\s+back\b|\breimburse",
    "billing_dispute": r"\b(?:charged\s+twice|double[-\s]?charged|overcharg\w*|wrong(?:ly)?\s+charged|"
    r"chargeback|dispute\s+(?:the|a|this)?\s*(?:charge|bill|invoice|payment)|unauthori[sz]ed\s+(?:charge|payment))",
    "damage": r"\b(?:caught\s+fire|on\s+fire|smok(?:e|ing)\b|burn(?:ed|t|ing)\b|explo(?:ded|sion)|"
    r"electric(?:al)?\s+shock|injur(?:y|ed|ies)|property\s+damage|damaged\s+(?:my|our)\b|arriv\w+\s+(?:broken|damaged)|"
    r"(?:is|was|got|arrived|came)\s+(?:badly\s+)?(?:cracked|smashed|shattered)|"
    r"(?:cracked|smashed|shattered)\s+(?:screen|case|housing|glass|lid|display|bumper|body)|"
    r"fell\s+(?:down|off|from)\s+(?:the\s+|a\s+|my\s+)?(?:stairs|steps|table|shelf|counter|desk|ladder|balcony))",
    # A replacement unit is a warranty claim a person grants; "a replacement filter" is a spare part, and "how
    # often do I need a replacement?" a care question: only the customer's own demand, ending there, counts.
    "replacement": r"\b(?:i\s+(?:want|demand|expect|would\s+like|'d\s+like)|send\s+me)\s+(?:a\s+)?"
    r"(?:replacement|new\s+one)(?=\s*(?:[.,!;]|$|(?:please|now|asap|immediately|instead|unit|device)\b))|"
    r"\breplace\s+(?:it|them|the\s+\w+)\s+(?:for\s+free|under\s+(?:the\s+)?warranty)",
    "legal": r"\b(?:lawyer|attorney|lawsuit|sue\b|suing|legal\s+action|court|small\s+claims|gdpr|"
    r"data\s+protection\s+(?:request|authority)|subject\s+access\s+request|ombudsman)",
    "account_security": r"\b(?:hacked|account\s+(?:was\s+)?compromised|stolen\s+(?:card|account|identity)|fraud\w*)",
}
_SENSITIVE_RE = {topic: re.compile(p, re.IGNORECASE) for topic, p in _SENSITIVE.items()}

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|greetings)\b[\s!.,]*(?:there)?[\s!.,]*$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|great|perfect|cool|awesome)[\s,!.]*)?(?:thanks?(?:\s+you)?|thank\s+you(?:\s+so\s+much)?|"
    r"cheers|ty|that\s+(?:helped|worked|solved\s+it))\b[\s!.,]*(?:(?:so\s+)?much|a\s+lot)?[\s!.,]*"
    # a closing after the thanks: "thanks, that's all" was searched, and the last answer given again
    r"(?:(?:that'?s\s+(?:all|it|everything)|that\s+is\s+all|bye|goodbye|have\s+a\s+(?:nice|good|great)\s+day)"
    r"(?:\s+(?:for\s+now|then))?[\s!.,]*)?$",
    re.IGNORECASE,
)


_PUNCTUATION_RUN = re.compile(r"[\s!.,]{2,}")

# What a complaint that names nothing is made of ("It's not working", "it doesnt work anymore", "still broken"):
# with no other word, there is nothing to search for, only something to ask.
_COMPLAINT_WORDS = frozenset(
    """
    it it's its this that not no nothing anything everything doesnt doesn't dont don't isnt isn't wont won't cant
    can't is are was does do did will can still anymore again at all properly correctly right really just now
    work works working worked broken broke stop stops stopped fail fails failed failing problem problems issue
    issues wrong help please my the a an keeps keep
    """.split()
)
_COMPLAINT_CORE = frozenset(
    "work works working worked broken broke stop stops stopped fail fails failed failing".split()
)
_COMPLAINT_TOKEN = re.compile(r"[a-z']+")


def is_vague_complaint(text: str) -> bool:
    """Whether the turn says only that something does not work, naming nothing ("It's not working", "it doesnt
    work", "still broken"): asking what is wrong is the only useful reply. A word of any other kind ("the remote
    is not working", "pairing failed") makes it a question retrieval can answer."""
    words = _COMPLAINT_TOKEN.findall(text.lower().replace("’", "'"))
    return bool(words) and all(w in _COMPLAINT_WORDS for w in words) and any(w in _COMPLAINT_CORE for w in words)


@dataclass(frozen=True)
class PolicyVerdict:
    kind: Literal["escalate", "greeting", "thanks", "none"]
    reason: EscalationReason | None = None
    detail: str = ""


def asks_for_human(text: str) -> bool:
    return bool(_HUMAN.search(text))


def sensitive_topic(text: str) -> str | None:
    """The first sensitive subject the text raises (refund, billing_dispute, damage, legal, ...), or None."""
    for topic, pattern in _SENSITIVE_RE.items():
        if pattern.search(text):
            return topic
    return None


def screen(text: str) -> PolicyVerdict:
    """What the rules say about a turn before any retrieval."""
    if asks_for_human(text):
        return PolicyVerdict("escalate", "customer_asked_for_human", "the customer asked for a person")
    topic = sensitive_topic(text)
    if topic is not None:
        return PolicyVerdict("escalate", "sensitive", f"sensitive subject: {topic.replace('_', ' ')}")
    if _GREETING.match(text):
        return PolicyVerdict("greeting")
    # Runs of spaces and punctuation as one: the pattern's optional runs would otherwise try every split of a
    # long one (a 4,000-character message took 0.9 s).
    if _THANKS.match(_PUNCTUATION_RUN.sub(lambda run: run.group()[0], text)):
        return PolicyVerdict("thanks")
    return PolicyVerdict("none")
