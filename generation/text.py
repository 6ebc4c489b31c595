"""Small text tools every backend shares: sentence splitting, content words, citation markers.

The sentence splitter is *local*: whether a position is a sentence boundary depends only on the characters
just before it and the first non-space character after it. That is what lets a streamed answer be cut into
the same sentences as the finished one (see :mod:`generation.grounding`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from retrieval.text_features import number_terms, phrasal_compound, without_frame


def _word_set(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


# Words that end with a period without ending a sentence (lower case, without the final period).
_ABBREVIATIONS = _word_set(
    """
    e.g i.e etc vs viz cf al approx ca est fig figs no nos vol p pp ch sec art ref refs dept
    mr mrs ms dr prof sr jr st mt ft inc ltd co corp llc plc bros govt u.s u.k u.n a.m p.m
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun min max
    """
)

# A citation marker as models write it: [1], [1, 2], [1][2], [1-3], [Passage 2], [source 3].
CITATION_MARKER = re.compile(
    r"\[\s*(?:(?:passage|source|doc(?:ument)?|ref)\s*)?(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)

# Candidate end of a sentence: terminal punctuation, closing quotes/brackets, then any citation markers that
# belong to the sentence, then whitespace. Whether it really ends one is decided by _is_boundary.
_CANDIDATE_END = re.compile(
    r"[.!?…]+[\"'”’)\]]*(?:\s*\[\s*(?:(?:passage|source|doc(?:ument)?|ref)\s*)?\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*\s*\])*"
    r"(?P<space>\s+)(?=\S)",
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(r"[A-Z0-9\"'“‘(¿¡À-ÖØ-Þ]")
_WORD_BEFORE = re.compile(r"(\S+)$")
_LIST_ENUMERATOR = re.compile(r"^\s*(?:\d{1,2}|[a-zA-Z]|[ivxIVX]{1,4})[.)]$")

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

STOPWORDS = _word_set(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else ever few for from further get gets got had hadn't has hasn't have haven't having
    he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if
    in into is isn't it it's its itself just let's like may me might more most much must mustn't my myself
    need no nor not now of on once one only or other ought our ours ourselves out over own per please
    same shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those though through to
    too under until up upon us very via was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's whether which while who who's whom whose why why's will with won't would wouldn't
    yes yet you you'd you'll you're you've your yours yourself yourselves okay ok hi hello thanks thank
    want wanted know tell really actually well also still even something anything thing things way ways
    mean think heard wonder wondering curious guess say said explain lot
    """
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, whitespace-trimmed; every line break also ends a sentence.

    Citation markers directly after the terminal punctuation ("... works. [2] Next") stay with the sentence
    they follow. Abbreviations, initials, decimals and list enumerators ("1. Open the menu") do not split.
    """
    complete, rest = split_complete_sentences(text)
    return [*complete, rest.strip()] if rest.strip() else complete


def split_complete_sentences(text: str) -> tuple[list[str], str]:
    """The sentences of ``text`` that are certainly complete, and the unfinished remainder.

    For streamed text: feeding the remainder plus the next piece back in yields, in the end, exactly the
    sentences :func:`split_sentences` finds in the whole text.
    """
    sentences: list[str] = []
    lines = text.split("\n")
    for number, line in enumerate(lines):
        start = 0
        for match in _CANDIDATE_END.finditer(line):
            if _is_boundary(line, start, match):
                piece = line[start : match.start("space")].strip()
                if piece:
                    sentences.append(piece)
                start = match.end()
        if number == len(lines) - 1:
            return sentences, line[start:]
        if line[start:].strip():
            sentences.append(line[start:].strip())
    return sentences, ""  # unreachable: split always yields at least one line


def _is_boundary(line: str, sentence_start: int, match: re.Match[str]) -> bool:
    following = line[match.end() : match.end() + 1]
    if not _SENTENCE_START.match(following):
        return False
    punct_at = match.start()
    if line[punct_at] != ".":
        return True  # ! ? and … always end a sentence before a capital
    before = _WORD_BEFORE.search(line[sentence_start : punct_at + 1])
    if before is None:
        return True
    word = before.group(1)
    if _LIST_ENUMERATOR.match(line[sentence_start : punct_at + 1]):
        return False  # "1. Open the menu": the enumerator of a list item
    bare = word.rstrip(".").lstrip("(\"'“‘").lower()
    if bare in _ABBREVIATIONS:
        return False
    return not (len(bare) == 1 and bare.isalpha())  # an initial: "J. Smith", "Section A. Part"


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits, inner apostrophes kept)."""
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A deliberately light suffix strip so that "passwords"/"password" and "resetting"/"reset" meet."""
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "resett" -> "reset", "plann" -> "plan", "sett" -> "set"
    return word


def content_terms(text: str) -> list[str]:
    """Stemmed words of ``text`` with stopwords and one-letter tokens removed, in order (duplicates kept).

    A verb and its particle count as the one word a manual writes ("set up", "sets it up" and "setting up"
    are all "setup"; "log in" is "login"), so the question's verb meets the manual's noun, and "set" alone
    (in "set the provider's router to bridge mode") does not stand in for it.
    """
    tokens = words(text)
    terms = []
    skip = set()
    for i, word in enumerate(tokens):
        if i in skip:
            continue
        compound = phrasal_compound(tokens, i)
        joined = number_terms(word)
        if compound is not None:
            terms.append(compound[0])
            skip.add(compound[1])
        elif joined is not None:  # "5ghz" is the "5 GHz" a manual writes
            terms += joined
        elif word not in STOPWORDS and len(word) > 1:
            terms.append(stem(word))
    return terms


def question_terms(question: str) -> list[str]:
    """:func:`content_terms` of a question without the words of its frame
    (:func:`retrieval.text_features.frame_spans`: "long" in "how long is the warranty?"), which no answer
    repeats: the warranty's "2-year limited warranty" answers it."""
    return content_terms(without_frame(question))


def cited_numbers(text: str) -> list[int]:
    """Passage numbers cited by markers in ``text``, in order of first appearance ("[1-3]" expands)."""
    numbers: list[int] = []
    for match in CITATION_MARKER.finditer(text):
        for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part.strip())
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                low, high = int(bounds[0]), int(bounds[1])
                expanded: Iterable[int] = range(low, high + 1) if 0 < high - low < 10 else (low, high)
            else:
                expanded = (int(b) for b in bounds if b.isdigit())
            for number in expanded:
                if number not in numbers:
                    numbers.append(number)
    return numbers


def strip_citation_markers(text: str) -> str:
    """``text`` without citation markers, with the space they leave behind tidied ("works [1]." -> "works.")."""
    stripped = CITATION_MARKER.sub("", text)
    stripped = re.sub(r"\s+([.,;:!?])", r"\1", stripped)
    return re.sub(r"\s{2,}", " ", stripped).strip()
