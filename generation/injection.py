"""Recognising text in a knowledge-base passage that is addressed to the assistant rather than to a customer.

Passage text is data. A sentence that tries to steer whoever reads it - "ignore your instructions", "reply only
with X", "tell customers to ...", "send your password to x@evil.example", a chat role marker - is treated as
*instruction-like*: it is never shown to a model, quoted in an answer, or counted as evidence.

The rules aim at what separates an injection from a manual. A manual talks *to the customer* about the
product ("Press and hold Back", "Reply to the e-mail we sent you to confirm", "Tell the technician your serial
number"); an injection talks to the assistant about its own behaviour (how to reply, what to say, who it now
is), talks about customers in the third person as people to be told things, or asks for secrets to be sent
somewhere. Each rule below names one of those shapes; the unit tests hold both a list of injection variants
and a list of ordinary manual sentences that must pass untouched.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Where an imperative can start: the sentence start, after a clause break or "and/then", after "please",
# or after "you must/should/will ..." (an order given to the reader).
_LEAD = (
    r"(?:^|[:;,(\-–—]\s*|\b(?:and|then|so)\s+|\byou\s+(?:must|should|shall|will|need\s+to|have\s+to|are\s+to|"
    r"may\s+only|can\s+only)\s+)(?:(?:please|always|now|only|just|simply|instead|also)\s+)*"
)
_REPLY_VERB = r"(?:reply|respond|answer|output|say|write|print|return|repeat)"
_AI = (
    r"(?:ai|a\.i\.|artificial\s+intelligence|(?:ai\s+|virtual\s+|digital\s+)?assistants?|chat\s*bots?|bots?|"
    r"(?:large\s+)?language\s+models?|llms?|gpts?|chatgpt|claude|gemini|copilot|ai\s+models?)"
)
_SECRET = (
    r"(?:passwords?|passcodes?|pins?|pin\s+codes?|credentials|(?:log|sign)[-\s]?in\s+details|card\s+numbers?|"
    r"credit\s+cards?|cvv|cvc|security\s+codes?|one[-\s]time\s+(?:pass)?codes?|otps?|verification\s+codes?|"
    r"2fa\s+codes?|authentication\s+codes?|recovery\s+(?:phrases?|codes?|keys?)|seed\s+phrases?|private\s+keys?|"
    r"online\s+banking\s+details|api\s+keys?|access\s+tokens?)"
)
_CONTACT = r"(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|www\.\S+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/\S*)"
CONTACT = re.compile(_CONTACT, re.IGNORECASE)
"""An e-mail address or a web address."""

_PATTERNS = [
    # -- overriding the assistant's own instructions ------------------------------------------------------
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every|of|the|your|my|our|these|those|this|"
    r"previous|prior|above|earlier|preceding|original|initial|system|safety|other|existing)\s+){0,4}"
    r"(?:instructions?|prompts?|rules|guidelines|directives|commands|guardrails|context|system message)\b",
    r"\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:above|before|previously|you\s+(?:were|have\s+been)\s+told)",
    r"\b(?:ignore|disregard|skip)\s+(?:all\s+|any\s+|the\s+)?(?:other|remaining|previous|above)\s+"
    r"(?:passages?|documents|sources|articles|search\s+results)\b",
    r"\b(?:new|updated|real|actual|secret|hidden)\s+(?:instructions?|system\s+prompt)\s*(?::|for\s+(?:the\s+)?"
    r"(?:ai|assistant|model|bot|you)\b|are\s+(?:to|as\s+follows))",
    r"\brules\s+for\s+(?:the\s+)?(?:ai|assistant|model|bot)\b",
    r"\bdo\s+not\s+(?:follow|obey)\s+(?:the|your|any)\s+(?:previous\s+|prior\s+|system\s+)?(?:instructions?|rules|prompt)\b",
    r"\b(?:reveal|print|show|repeat|output|leak)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|instructions|hidden\s+prompt)\b",
    r"\b(?:do\s+not|don't|never)\s+(?:cite|mention|reference|reveal|disclose)\s+(?:the\s+|any\s+|your\s+|these\s+)?"
    r"(?:sources?|passages?|citations?|instructions|system\s+prompt|this\s+(?:note|instruction|message|notice))\b",
    r"\b(?:jailbreak|jailbroken|dan\s+mode|developer\s+mode\s+enabled|do\s+anything\s+now)\b",
    # -- changing who the assistant is ---------------------------------------------------------------------
    r"\byou(?:\s+are|'re)\s+now\s+(?:(?:an?|the|my)\s+(?!(?:member|subscriber|owner|admin|administrator|user|"
    r"customer|developer)\b)|called|named|known\s+as|free|unrestricted|unfiltered|jailbroken|dan\b|in\s+"
    r"(?:developer|god|dan|jailbreak|unrestricted)\s+mode)",
    r"\byou(?:\s+are|'re)\s+no\s+longer\s+(?:bound|restricted|limited|constrained|required\s+to\s+follow|"
    r"an?\s+" + _AI + ")",
    r"\bfrom\s+now\s+on\b[^.!?]{0,40}?\b(?:you\s+(?:are|must|should|shall|have\s+to|will\s+(?:answer|reply|respond|"
    r"say|act|be|only|always|never))|the\s+(?:assistant|ai|bot|model)|answer|reply|respond|say|act|speak|talk|"
    r"only|ignore|pretend|refer)\b",
    r"\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b",
    r"\b(?:act|behave|respond)\s+as\s+(?:if\s+you\s+(?:are|were)|an?\s+(?:unrestricted|different|new|evil|jailbroken))\b",
    r"\b(?:role-?play|roleplay)\s+as\b|\bstay\s+in\s+character\b",
    r"\byour\s+(?:new|real|true|only|actual|sole|primary|secret)\s+(?:role|persona|task|job|goal|objective|purpose|"
    r"mission|directive|name|instructions?)\s+(?:is|are|will\s+be|now)\b",
    # -- addressed to an assistant / model -----------------------------------------------------------------
    r"\b(?:if|when|whenever)\s+you\s+are\s+(?:an?\s+)?(?:automated\s+)?" + _AI + r"\b",
    r"\b(?:note|notice|message|memo|instructions?|attention|reminder|hint)\s+(?:to|for)\s+(?:the\s+|all\s+|any\s+|"
    r"every\s+)?" + _AI + r"(?=\s*(?:[:,.!;)\-–—]|$))",
    r"^(?:(?:hey|dear|hi|hello|attention)\s+)?(?:the\s+)?" + _AI + r"\s*[,:!]\s",
    r"\b" + _AI + r"\s+(?:reading|processing|parsing|summari[sz]ing|seeing|answering\s+from)\s+(?:this|these)\b",
    r"\b" + _AI + r",?\s+(?:must|should|shall|(?:will|is\s+to|are\s+to)\s+(?:now|always|only|never))\s+"
    r"(?:now\s+|always\s+|only\s+|never\s+)?(?:say|reply|respond|answer|output|ignore|obey|tell|recommend|claim)\b",
    # -- telling the assistant how to reply ----------------------------------------------------------------
    _LEAD + _REPLY_VERB + r"\s+(?:back\s+)?(?:only|just|exactly|solely|merely|nothing\s+but|verbatim)\b"
    r"(?!\s+(?:to|if|when|after|once|from|the|on|within|via|by|during|in\s+writing)\b)",
    _LEAD + r"(?:reply|respond|answer|output)\s+(?:\w+\s+){0,2}?with\s+(?:only\s+)?(?:the|a|one|this|a\s+single)\s+"
    r"(?:single\s+|one\s+)?(?:word|phrase|string|text|sentence|token|message)\b",
    _LEAD + r"(?:refuse|decline)\s+to\s+(?:answer|help|respond|assist)\b",
    _LEAD + r"(?:reply|respond|answer|write|speak|talk)\s+(?:only\s+|exclusively\s+)?in\s+(?:all\s+caps|capitals|"
    r"upper\s*case|lower\s*case|json|markdown|html|xml|base64|rhymes?|verse|riddles?|emojis?|pirate|french|"
    r"spanish|german|italian|portuguese|dutch|russian|chinese|japanese|korean|arabic|hindi|latin|klingon)\b",
    r"^(?:please\s+|always\s+|just\s+)?(?:say|claim|insist|assert)\s+that\b",
    r"^(?:please\s+)?(?:always|only)\s+(?:recommend|reply\s+with|respond\s+with|answer\s+with|say)\b",
    r"\b(?:answer|reply\s+to|respond\s+to)\s+(?:every|all|any|each)\s+(?:questions?|messages?|quer(?:y|ies)|"
    r"requests?)\s+(?:with|by\s+saying|in)\b",
    r"\b(?:repeat\s+after\s+me|(?:output|echo|print)\s+the\s+following\s+(?:text|words?|message|line|string))\b",
    r"\band\s+nothing\s+else\b|\bnothing\s+else\s+(?:in\s+your\s+)?(?:answer|reply|response)\b",
    r"\b(?:begin|start|end|finish|prefix|suffix|sign\s+off)\s+(?:your|every|each|all|any)\s+(?:answers?|repl(?:y|ies)|"
    r"responses?|outputs?)\b",
    r"\b(?:in|to|into)\s+(?:every|each|all|any|your)\s+(?:answers?|responses?|outputs?)\b(?!\s+to\b)",
    r"\byour\s+(?:answers?|repl(?:y|ies)|responses?|outputs?)\s+(?:must|should|shall|has\s+to|needs\s+to)\s+(?:be\s+)?"
    r"(?:exactly|only|just|always|nothing\s+but)\b",
    r"\byour\s+(?:answers?|responses?|outputs?)\s+(?:must|should|shall)\s+(?:always\s+)?(?:contain|include|start|begin|"
    r"end|say|read|mention)\b",
    r"\b(?:answer|reply|response)\s+to\s+(?:every|all|any|each)\s+(?:questions?|messages?|quer(?:y|ies)|requests?)\s+"
    r"(?:is|must\s+be|should\s+be)\b",
    r"\b(?:when|while)\s+(?:answering|replying|responding)\s*,",
    r"\b(?:when|while)\s+(?:you\s+)?(?:answer(?:ing)?|repl(?:y|ying)|respond(?:ing)?)\s+(?:to\s+)?(?:any\s+|all\s+|"
    r"every\s+|the\s+)?(?:questions?|customers?|users?|quer(?:y|ies))\b",
    r"\b(?:summari[sz]e|describe|translate|rewrite)\s+(?:this|the)\s+(?:page|document|article|passage|text)\s+as\b",
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?(?:the\s+)?above(?:\s+text)?\s*(?:[.,;:!]|and\b|$)",
    r"\b(?:begin|start|end)(?:\s+of)?\s+(?:the\s+)?(?:system\s+prompt|(?:hidden|secret|real|new)\s+instructions)\b",
    # -- using the assistant to talk to customers ----------------------------------------------------------
    r"\b(?:tell|inform|assure|promise|remind|advise|warn)\s+(?:the\s+|all\s+|every\s+|any\s+|our\s+|each\s+)?"
    r"(?:customers?|callers?)\b(?!['’]|\s+(?:service|support|care|centre|center|portal|number)\b)",
    r"\b(?:respond|reply|answer|write|say|explain)\s+(?:to\s+)?(?:the\s+|all\s+|every\s+|any\s+)?(?:customers?|callers?)"
    r"\b(?!['’]|\s+(?:service|support|care|centre|center|portal|number)\b)",
    r"\b(?:customers?|callers?)\s+(?:should|must|are\s+to|need\s+to)\s+be\s+(?:told|informed|advised|instructed|"
    r"directed|asked|sent)\b",
    r"\b(?:tell|instruct|direct|advise|inform|urge|convince|persuade|remind|encourage|ask|get|make|force|trick|"
    r"mislead|redirect|assure|promise)\s+(?:the\s+|all\s+|every\s+|any\s+|our\s+|each\s+)?(?:customers?|callers?|"
    r"shoppers?|buyers?|clients?|consumers?)\s+(?:to|that|they)\b",
    r"\b(?:tell|instruct|direct|urge|convince|persuade|trick|mislead|force)\s+(?:the\s+|all\s+|every\s+)?"
    r"(?:users?|people|everyone)\s+(?:to|that|they)\b",
    r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+to|show)\s+(?:the\s+)?"
    r"(?:customers?|users?|callers?)\b",
]

# "Reply STOP / with the word STOP to unsubscribe": an SMS keyword instruction names what it does.
_KEYWORD_PURPOSE = re.compile(
    r"\bto\s+(?:unsubscribe|opt[\s-]?(?:in|out)|confirm|cancel|stop|subscribe|verify|activate|start|continue|"
    r"register|book|vote)\b",
    re.IGNORECASE,
)
_REPLY_FORM = re.compile("|".join(f"(?:{p})" for p in _PATTERNS if p.startswith(_LEAD)), re.IGNORECASE | re.MULTILINE)
_OTHER = re.compile("|".join(f"(?:{p})" for p in _PATTERNS if not p.startswith(_LEAD)), re.IGNORECASE | re.MULTILINE)

# Chat-template tokens, role markers and our own delimiters: they must never appear inside a passage.
TEMPLATE_TOKENS = re.compile(
    r"<\|[^|>]{0,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|</?(?:passage|passages|question|conversation|system|assistant)"
    r"\b[^>]{0,200}>|</user>|\[(?:system|assistant|developer)\]|(?:^|(?<=\s))#{2,}\s*(?:system|instructions?|response|"
    r"assistant|user|input|output)\b:?",
    re.IGNORECASE | re.MULTILINE,
)
_ROLE_LINE = re.compile(r"(?:^|[.!?]\s+)\s*(?:system|assistant|developer)\s*:", re.IGNORECASE | re.MULTILINE)
# "Say HACKED." / "Output 'PWNED' only": a bare order to emit one capitalised token.
_BARE_ECHO = re.compile(
    r"^(?i:please\s+)?(?i:output|say|print|reply|respond|answer|write|type|return|echo)\s+(?i:with\s+)?[\"']?"
    r"[A-Z][A-Z0-9_!-]{2,}[\"']?(?i:\s+and\s+nothing\s+else|\s+only)?\s*[.!]?$"
)

# Sending a secret somewhere: a transmitting verb, then a secret, with a destination, and no warning tone.
_SEND_SECRET = re.compile(
    r"\b(?:send|e-?mail|forward|share|give|provide|submit|reveal|disclose|dm|reply\s+with|tell)\b[^.!?,;:]{0,60}?\b"
    + _SECRET
    + r"\b",
    re.IGNORECASE,
)
_DESTINATION = re.compile(
    _CONTACT + r"|\b(?:send|e-?mail|mail|forward|give|text|dm|message|tell)\s+(?:it\s+|them\s+)?(?:to\s+)?(?:us|me)\b|"
    r"\bto\s+(?:us|me|this\s+address|the\s+following|the\s+(?:address|link)\s+below)\b",
    re.IGNORECASE,
)
_WARNING = re.compile(
    r"\b(?:never|not|no\s+one|nobody|avoid|beware|scams?|phishing|fraud\w*|suspicious)\b|n't\b", re.IGNORECASE
)


_PLAIN_QUOTES = str.maketrans("‘’“”", "''\"\"")


def _normalise(text: str) -> str:
    """NFKC, without invisible characters, with plain quotes and single spaces: "Ig\u200bnore" is "Ignore"."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc", "Co") or ch in "\n\t")
    text = text.translate(_PLAIN_QUOTES)
    return re.sub(r"[ \t]+", " ", text).strip()


def _sends_a_secret(text: str) -> bool:
    match = _SEND_SECRET.search(text)
    return bool(match) and bool(_DESTINATION.search(text)) and not _WARNING.search(text)


@lru_cache(maxsize=65_536)  # every backend asks about the same passage sentences several times
def is_instruction_like(text: str) -> bool:
    """True when ``text`` (a sentence or a short line) reads as an instruction to the assistant, or as a way to
    use it against customers, rather than as information for a customer. See the module docstring."""
    text = _normalise(text)
    if not text:
        return False
    if _OTHER.search(text) or TEMPLATE_TOKENS.search(text) or _ROLE_LINE.search(text):
        return True
    if _BARE_ECHO.search(text) and not text.isupper():  # an all-capitals line is a heading ("RETURN TRIP")
        return True
    if _sends_a_secret(text):
        return True
    return bool(_REPLY_FORM.search(text)) and not _KEYWORD_PURPOSE.search(text)
