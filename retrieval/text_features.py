"""Small, dependency-free text features shared by reranking and the answerability score.

Content terms are the words a question is really about: lower-cased word tokens minus English function words
and question boilerplate, reduced by a light suffix stripper so "recording"/"records"/"recorded" meet. No
model, no download; deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)  # a word token (:func:`words` lower-cases them)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")

# Function words plus words every support question uses ("how do I ...", "can you tell me ..."): they say
# nothing about which passage answers. "off" is not one of them: "turn it off" and "turn it on" are different
# sections of a manual.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else etc ever every few for
    from further get gets got had has have having he her here hers him his how however i if in into is it its
    itself just let me might more most much must my myself need needs no nor not now of on once one only or
    other our ours out over own please really same shall she should so some such than that the their theirs
    them then there these they this those through to too under until up upon us use used using very want wants
    was way we were what whats when where whether which while who whom why will with within without would yes
    you your yours yourself tell know like thanks thank hi hello ok okay
    dont doesnt didnt cant cannot wont isnt arent wasnt werent""".split()  # typed without the apostrophe
)

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", "ment"),
    ("ings", ""),
    ("ing", ""),
    ("ied", "y"),
    ("ies", "y"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ing/-ed, a final -e), so "schedule", "scheduled" and
    "scheduling" meet; leaves short and non-alphabetic words alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ings", "ed") and len(word) > 3 and word[-1] == word[-2] not in "lsz":
                word = word[:-1]  # "stopped" -> "stop", but "called" -> "call"
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


# A number written together with its unit ("110V", "5GHz", "1450W") is the number a manual writes apart from it
# ("110 V"): "Does it work on 110V?" found no "110v" in the FAQ's "Does the machine work with 110 V?".
_NUMBER_WITH_UNIT = re.compile(
    r"^(\d+)(v|w|kw|kwh|mah|hz|khz|mhz|ghz|db|ml|kg|mm|cm|gb|mb|tb|mbps|gbps)$"  # not "5g", "4k", "3d"
)


def number_terms(word: str) -> tuple[str, ...] | None:
    """The terms of a lower-case word that is a number with its unit written onto it ("110v" -> "110"; "5ghz" ->
    "5", "ghz": a one-letter unit is no term, as "V" in "110 V" is none); None for any other word."""
    joined = _NUMBER_WITH_UNIT.match(word)
    if joined is None:
        return None
    number, unit = joined.groups()
    return (number, unit) if len(unit) > 1 else (number,)


def terms_of(word: str) -> tuple[str, ...]:
    """The terms a lower-case word counts as: its stem, or its number and unit (:func:`number_terms`)."""
    return number_terms(word) or (stem(word),)


def units_apart(text: str) -> list[str]:
    """The numbers of ``text`` written together with their unit, written apart ("110V" -> "110 V"), for BM25."""
    return [f"{m.group(1)} {m.group(2)}" for m in map(_NUMBER_WITH_UNIT.match, words(text)) if m]


# Words that make a question's frame, not its subject: "how long" asks for a duration whatever it is about,
# "what does E40 mean" for a meaning, "it shows this" or "it shows E12" points at a photo or a display. Dropped
# only in that frame ("a long press" keeps "long", "show the clock" keeps "show").
_AFTER_HOW = frozenset(
    "long often many far old big large soon frequently hot cold warm fast heavy high loud tall wide deep".split()
)
# "How long does it take to heat up?", "how long does the battery last?": the verb of a duration question.
_DURATION_VERBS = frozenset("take takes taking took last lasts".split())
_MEANING = re.compile(r"^\s*what\s+(?:does|do|did)\b.*\bmean\b", re.IGNORECASE)
# "my machine shows this", "I keep getting this": about the photo or the screen in front of the customer.
_POINTING = frozenset(
    "show shows showing showed display displays displaying say says saying read reads get getting got see "
    "seeing".split()
)
_POINTED_AT = frozenset("this that these those".split())
# Between a pointing verb and the code it points at: "shows error E-12", "displays the error code E40".
_BEFORE_CODE = frozenset("the an a error code fault warning message".split())
_OWNER = frozenset("my our".split())
# "keeps disconnecting": the verb says the problem recurs, the gerund what it is; "keeps coming back", "keeps
# showing up", "keeps happening" say only that it recurs (the manual writes "If E-10 appears again ...").
_KEEP = frozenset("keep keeps kept keeping".split())
_RECURRING = frozenset("coming showing popping happening appearing reappearing recurring returning".split())
_RECURRING_PARTICLES = frozenset("back up again".split())
_OWNED_WORDS = 2  # "my robot vacuum shows E-12": the device is the customer's own, not the subject


def content_terms(text: str) -> list[str]:
    """Distinct stemmed content terms of ``text``, in order of first appearance: its words but function words
    and the words of the question's frame (:func:`frame_spans`), then its phrasal verbs' one-word forms
    ("set up" -> "setup", :func:`phrasal_compounds`)."""
    seen: dict[str, None] = {}
    matches = list(WORD.finditer(text))
    tokens = [m.group().lower() for m in matches]  # words(text)
    frame = _frame_indices(text, matches)
    for index, word in enumerate(tokens):
        if word in STOP_WORDS or (len(word) <= 1 and not word.isdigit()) or index in frame:
            continue
        for found in terms_of(word):
            seen.setdefault(found, None)
    for compound in phrasal_compounds(text):  # beside the verb: "set" still meets "set the time"
        seen.setdefault(compound, None)
    return list(seen)


def frame_spans(text: str, devices: bool = True) -> list[tuple[int, int]]:
    """Where in ``text`` the words of its frame, not its subject, stand: "long" in "how long is the warranty",
    "take" in "how long does it take to heat up", "mean" in "what does E40 mean", "shows" and the customer's own
    device in "my robot shows E-12", "my machine shows this" or "this is what my app shows, what do I do?",
    "keeps coming back" in "E-10 keeps coming back" (and "keeps" in "keeps disconnecting").
    Every part that matches a question against passages (reranking, answerability, the extractive generator,
    entity extraction) leaves them out; the same word elsewhere in the text ("a long press") stays. With
    ``devices=False``, the customer's word for their own device ("robot" in "my robot shows E-12") is left out of
    the frame: a misspelling of it is still worth correcting."""
    matches = list(WORD.finditer(text))
    frame = _frame_indices(text, matches, devices)
    return [(m.start(), m.end()) for index, m in enumerate(matches) if index in frame]


def without_frame(text: str) -> str:
    """``text`` with the words of its frame (:func:`frame_spans`) blanked out, offsets unchanged."""
    out = list(text)
    for start, end in frame_spans(text):
        out[start:end] = " " * (end - start)
    return "".join(out)


def _frame_indices(text: str, matches: list[re.Match[str]], devices: bool = True) -> set[int]:
    """Indices into ``matches`` (``text``'s word tokens, ``WORD.finditer(text)``) of the frame's words (with the
    customer's own device's, unless ``devices`` is False)."""
    written = [m.group() for m in matches]
    tokens = [w.lower() for w in written]
    frame: set[int] = set()
    meaning = bool(_MEANING.match(text))
    how_long = next((i for i in range(1, len(tokens)) if tokens[i - 1 : i + 1] == ["how", "long"]), None)
    for index, word in enumerate(tokens):
        asks_how = word in _AFTER_HOW and index > 0 and tokens[index - 1] == "how"  # "how long", "how hot"
        duration = word in _DURATION_VERBS and how_long is not None and how_long < index  # "... does it take"
        if asks_how or duration or (meaning and word == "mean"):
            frame.add(index)
        elif word in _KEEP and index + 1 < len(tokens) and tokens[index + 1].endswith("ing"):
            frame.update(_recurring(tokens, index))
        elif word in _POINTING and _points_at(tokens, index + 1):
            frame.add(index)
            frame.update(_owned_device(written, index) if devices else ())
        elif word in _POINTING and _ends_clause(text, matches, index):
            owned = _owned_device(written, index)
            if owned and owned[0] >= 2 and tokens[owned[0] - 2] == "what":  # "this is what my app shows, ..."
                frame.add(index)
                frame.update(owned if devices else ())
    return frame


def _recurring(tokens: list[str], keep: int) -> list[int]:
    """The frame of "keeps" + a gerund at ``keep``: "keeps" alone ("keeps disconnecting"), or with "coming back",
    "showing up", "happening" ..., which say only that the problem recurs."""
    gerund = keep + 1
    if tokens[gerund] not in _RECURRING:
        return [keep]
    particle = gerund + 1
    return (
        [keep, gerund, particle]
        if particle < len(tokens) and tokens[particle] in _RECURRING_PARTICLES
        else [keep, gerund]
    )


def _ends_clause(text: str, matches: list[re.Match[str]], index: int) -> bool:
    """Whether the word at ``index`` ends its clause: "this is what my app shows, what do I do?" points at a photo
    as "my app shows this" does (the caller asks for "what my X shows" too: "Which light should my router show?"
    asks about the router)."""
    after = text[matches[index].end() : matches[index + 1].start() if index + 1 < len(matches) else len(text)]
    return index + 1 == len(matches) or any(mark in after for mark in ",.;:!?")


def _points_at(tokens: list[str], start: int) -> bool:
    """What follows "shows" / "says" when the customer points at a screen: "this", or a code ("E12", "error
    E-12", which the tokenizer splits into "e" and "12")."""
    index = start
    while index < len(tokens) and tokens[index] in _BEFORE_CODE:
        index += 1
    if index >= len(tokens):
        return False
    word = tokens[index]
    if word in _POINTED_AT or any(c.isdigit() for c in word):
        return True
    follows = tokens[index + 1] if index + 1 < len(tokens) else ""
    return len(word) <= 2 and word.isalpha() and follows[:1].isdigit()


def _owned_device(written: list[str], verb: int) -> list[int]:
    """The indices of "robot vacuum" in "my robot vacuum shows ...": up to two lower-case words between "my" or
    "our" and the pointing verb, the customer's word for their device. A name or a model ("my Dustly R5
    shows ...", "my TV shows ...") stays: in a knowledge base of several products it says which."""
    for width in range(1, _OWNED_WORDS + 1):
        owner = verb - width - 1
        if owner >= 0 and written[owner].lower() in _OWNER:
            owned = range(owner + 1, verb)
            return list(owned) if all(written[i].isalpha() and written[i].islower() for i in owned) else []
    return []


def term_set(text: str) -> set[str]:
    """The stems of every word of ``text``, and the one-word forms of its phrasal verbs ("set up" adds "setup")."""
    return {t for w in words(text) for t in terms_of(w)} | set(phrasal_compounds(text))


# Verbs whose particle makes the noun a manual writes as one word: a customer asks how to "set up" what the
# manual's heading calls "Setup" (BM25 and the term features saw only "set", which "set the provider's router
# to bridge mode" has too).
PHRASAL: dict[str, frozenset[str]] = {
    "set": frozenset({"up"}),
    "log": frozenset({"in", "out"}),
    "sign": frozenset({"in", "up"}),
    "check": frozenset({"out"}),
    "back": frozenset({"up"}),
    "start": frozenset({"up"}),
    "shut": frozenset({"down"}),
}
_OBJECT_PRONOUNS = frozenset("it them this that everything".split())


def _verb_base(word: str) -> str | None:
    """The :data:`PHRASAL` verb ``word`` inflects ("sets", "setting", "logged" ...), if any."""
    for suffix in ("", "s", "ing", "ed"):
        if suffix and not word.endswith(suffix):
            continue
        base = word[: len(word) - len(suffix)]
        for candidate in (base, base[:-1] if len(base) > 3 and base[-1] == base[-2] else base):
            if candidate in PHRASAL:
                return candidate
    return None


def phrasal_compound(tokens: Sequence[str], index: int) -> tuple[str, int] | None:
    """(the one-word form, the particle's index) when ``tokens[index]`` (lower case) is a phrasal verb followed by
    its particle directly or after one object pronoun ("set it up" -> "setup")."""
    verb = _verb_base(tokens[index])
    if verb is None:
        return None
    for j in (index + 1, index + 2):
        if j < len(tokens) and tokens[j] in PHRASAL[verb] and (j == index + 1 or tokens[index + 1] in _OBJECT_PRONOUNS):
            return verb + tokens[j], j
    return None


def phrasal_compounds(text: str) -> list[str]:
    """The one-word forms of the phrasal verbs in ``text``, in order, distinct ("Setting it up" -> ["setup"])."""
    tokens = words(text)
    found = (phrasal_compound(tokens, i) for i in range(len(tokens)))
    return list(dict.fromkeys(compound for compound, _ in filter(None, found)))


def coverage(terms: Iterable[str], passage_terms: set[str]) -> float:
    """Share of ``terms`` found in ``passage_terms`` (1.0 when there are no terms: nothing is missing)."""
    wanted = list(terms)
    if not wanted:
        return 1.0
    return sum(1 for t in wanted if t in passage_terms) / len(wanted)


def split_sentences(text: str, max_sentences: int, min_chars: int = 12) -> list[str]:
    """Sentences (and lines) of ``text``; fragments shorter than ``min_chars`` join their neighbour, and
    beyond ``max_sentences`` the rest is merged into the last one so nothing is dropped from view."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and (len(part) < min_chars or len(merged[-1]) < min_chars):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    if len(merged) > max_sentences:
        merged = [*merged[: max_sentences - 1], " ".join(merged[max_sentences - 1 :])]
    return merged
