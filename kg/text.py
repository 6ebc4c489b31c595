"""Tokens, normal forms and a small rule-based noun-phrase chunker (no tagger, no model download).

The chunker splits a sentence at function words, common verbs and punctuation; what is left are runs of
content words, which in help-desk text are overwhelmingly noun phrases ("the smart remote", "auto power
off", "disability benefits"). It is deliberately simple: a follow-up resolver and a retrieval expander
need the salient nouns, not a parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A word: letters/digits with inner hyphens, apostrophes, dots or slashes ("wi-fi", "s/n", "v2.1", "don't").
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’./][A-Za-z0-9]+)*")
# What ends a phrase besides a function word: punctuation other than inner hyphens.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”<>|/\\]|\s-\s|\n")


def _words(block: str) -> list[str]:
    return block.split()


STOPWORDS = frozenset(
    _words("""
    a an the this that these those there here it its it's itself they them their theirs he him his she her
    hers we us our ours you your yours i me my mine one ones some any all each every both either neither
    other another such same own what which who whom whose when where why how whether if then than so as
    of to in on at by for from with without into onto upon over under about above below between through
    during before after since until till up down out off again further once also too very just only even
    still already yet not no nor and or but because while although though unless
    is am are was were be been being do does did done doing have has had having will would shall should
    can could may might must ought let lets let's please thanks thank ok okay yes yeah hi hello hey
    i'm i've i'd i'll you're you've we're they're isn't aren't wasn't weren't don't doesn't didn't can't
    cannot won't wouldn't couldn't shouldn't haven't hasn't hadn't what's that's how's where's there's
    something anything nothing everything someone anyone everyone somebody anybody much many more most
    less least few lot lots bit kind sort way thing things stuff really actually maybe perhaps now
    well like else instead though about around regarding re via per etc e.g i.e
    first second third last next previous latter former
    often usually always never sometimes ever soon
    """)
)

# Verbs frequent in support conversations, in their common forms. Unknown words count as content, so this
# list only has to cover the verbs that would otherwise glue two noun phrases together.
# Words that are as often nouns ("order", "update", "reset", "display") are left out on purpose.
_VERB_STEMS = _words("""
    turn get make use need want try work connect disconnect restart reboot change find see say tell know
    think help fix install uninstall remove delete add open close press hold click tap select choose go
    come take give keep put show look seem appear stop start run apply pay receive send contact enter
    check cancel replace buy unpair enable disable activate deactivate switch unplug download upload save
    lose move live submit qualify happen mean ask explain understand learn read write allow require
    provide include renew register unlock configure adjust hear listen fail end drain freeze crash break
    blink flash beep drop hang expire arrive deliver become cost own mention wonder hope call
""")


def _verb_forms(stem: str) -> set[str]:
    forms = {stem, stem + "s", stem + "ed", stem + "ing"}
    if stem.endswith("e"):
        forms |= {stem + "d", stem[:-1] + "ing"}
    if stem.endswith(("s", "sh", "ch", "x")):
        forms.add(stem + "es")
    if stem.endswith("y") and len(stem) > 3:
        forms |= {stem[:-1] + "ies", stem[:-1] + "ied"}
    if re.fullmatch(r".*[^aeiou][aeiou][bdgmnprt]", stem):
        forms |= {stem + stem[-1] + "ed", stem + stem[-1] + "ing"}
    return forms


_IRREGULAR = (
    "got gotten made said told knew known thought found took taken gave given went gone came saw seen paid sent "
    "lost kept put ran shown understood read wrote written froze frozen broke broken became hung"
)
VERBS = frozenset({f for stem in _VERB_STEMS for f in _verb_forms(stem)} | set(_IRREGULAR.split()))
# Verbs that ask for a procedure on something ("turn it off", "reset it", "cancel that"), unlike light verbs
# ("does that take long", "what does it cost") whose question is about the earlier subject itself.
ACTION_VERBS = frozenset(
    f
    for stem in _words("""
        turn switch reset restart reboot connect disconnect pair unpair install uninstall remove delete open close
        press hold replace clean change cancel renew update upgrade enable disable activate deactivate unplug plug
        charge mount unlock lock configure adjust apply submit register return refund
    """)
    for f in _verb_forms(stem)
)
# Nouns that end in -ing and must not be treated as verb forms.
_ING_NOUNS = frozenset({"setting", "settings", "pairing", "recording", "billing", "shipping", "warning", "heading"})

# Content words too vague to be a topic on their own ("the problem", "a question").
GENERIC_NOUNS = frozenset(
    _words("""
    problem problems issue issues question questions help info information thing things time times
    way ways lot day days today tomorrow yesterday moment minute minutes second seconds hour hours week
    weeks month months year years people person guy sir madam mr mrs ms dear team case part example
    option options step steps detail details number answer reason
    """)
)


# Words whose final "s" is not a plural.
_INVARIANT = frozenset({"series", "species", "news", "mathematics", "physics", "wireless", "always", "status", "bus"})


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")


def tokens(text: str) -> list[Token]:
    """The words of ``text`` with their character offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def norm_word(word: str) -> str:
    """Lower case with a light plural strip ("remotes" -> "remote", "batteries" -> "battery")."""
    w = word.lower().replace("’", "'")
    if w in _INVARIANT or not w.isalpha():
        return w
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "'s")) and not w[-2].isdigit():
        return w[:-1]
    return w


def norm_phrase(text: str) -> str:
    """The normal form of a phrase: its words lower-cased and singularised, joined by single spaces."""
    return " ".join(norm_word(t.text) for t in tokens(text))


def is_content_word(lower: str) -> bool:
    """A word that can be part of a noun phrase."""
    if lower in STOPWORDS:
        return False
    if lower in VERBS and lower not in _ING_NOUNS:
        return False
    # Past tenses of verbs we do not list ("my insurance ended"); "-eed" words (speed, need) are not.
    return not (len(lower) > 4 and lower.endswith("ed") and not lower.endswith("eed") and lower.isalpha())


def content_words(text: str, *, things_only: bool = False) -> list[str]:
    """Normalised content words of ``text`` (function words, common verbs and generic nouns removed);
    ``things_only``: also the words in a verb's place (:func:`in_verb_position`: "set" in "How do I set a
    cleaning schedule?"), leaving what the text is about."""
    found = tokens(text)
    return [
        norm_word(t.text)
        for i, t in enumerate(found)
        if is_content_word(t.lower)
        and t.lower not in GENERIC_NOUNS
        and len(t.text) > 1
        and not (things_only and in_verb_position(found, i))
    ]


def _segments(text: str) -> Iterator[tuple[int, int]]:
    """Character ranges between breaking punctuation."""
    start = 0
    for m in _BREAK.finditer(text):
        if m.start() > start:
            yield start, m.start()
        start = m.end()
    if start < len(text):
        yield start, len(text)


# Words after which a word is a verb, not the start of a noun phrase: "How do *I* set ...", "you *can* pair ...".
_SUBJECTS = frozenset(_words("i we they i'd i'll we'll they'll"))
_YOU_ASKED = frozenset(_words("can could do did would will should"))  # "can you *set* ...", not "sent you photos"
_MODALS = frozenset(_words("can could should would will may might must cannot can't won't don't doesn't didn't"))
_MODAL_SUBJECTS = frozenset(_words("i you we they it he she"))
# Verbs that are as often nouns ("a set", "the pair"): a verb after "to" ("how to *set* a schedule").
_TO_VERBS = frozenset(_words("set setup"))


def in_verb_position(found: list[Token], i: int) -> bool:
    """Whether ``found[i]`` stands where a verb stands: after a subject pronoun ("How do I *set* a schedule?"),
    after "you" asked with a modal ("can you *pair* it"), after a modal that follows a subject ("you can *pair*
    it"; "Will *Meshly* X3 work?" names the subject), after "to" when it is an action verb ("to *reset* it";
    "go to settings" is a place), or first in the sentence when it is an action verb ("*Reset* the router").
    Words such as "set", "pair" or "reset" are as often nouns, so only their position says which they are."""
    lower = found[i].lower
    if i == 0:
        return lower in ACTION_VERBS
    before = found[i - 1].lower
    earlier = found[i - 2].lower if i >= 2 else ""
    return (
        before in _SUBJECTS
        or (before == "you" and earlier in _YOU_ASKED)
        or (before in _MODALS and earlier in _MODAL_SUBJECTS)
        or (before == "to" and (lower in ACTION_VERBS or lower in _TO_VERBS))
    )


def noun_phrases(text: str, max_words: int = 4) -> list[tuple[int, int]]:
    """Character spans of the noun phrases in ``text``, in order.

    A phrase is a maximal run of content words inside one punctuation segment, trimmed to its last
    ``max_words`` words (English noun phrases are head-final); a word in a verb's place
    (:func:`in_verb_position`) is no part of one. Single generic nouns and bare numbers are
    dropped; a run made only of generic nouns is dropped too.
    """
    spans: list[tuple[int, int]] = []
    for seg_start, seg_end in _segments(text):
        run: list[Token] = []
        found = tokens(text[seg_start:seg_end])
        for i, tok in enumerate([*found, None]):
            if tok is not None and is_content_word(tok.lower) and not in_verb_position(found, i):
                run.append(tok)
                continue
            if run:
                kept = run[-max_words:]
                # A leading generic noun is part of a larger phrase only if something specific follows.
                while kept and kept[0].lower in GENERIC_NOUNS and len(kept) > 1 and kept[-1].lower in GENERIC_NOUNS:
                    kept = kept[1:]
                if _worth_keeping(kept):
                    spans.append((seg_start + kept[0].start, seg_start + kept[-1].end))
                run = []
    return spans


def _worth_keeping(run: list[Token]) -> bool:
    if not run:
        return False
    words = [t.lower for t in run]
    if all(w in GENERIC_NOUNS or w.isdigit() for w in words):
        return False
    return not (len(words) == 1 and len(words[0]) < 3)
