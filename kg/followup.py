"""Follow-up detection and retrieval-query rewriting (pure functions).

A follow-up is a turn that leans on the conversation instead of naming what it is about: "and how do I
turn it off again?", "does that work with the other remote?", "what about the second one?". Such a turn
retrieves badly on its own; :func:`rewrite_query` adds the entities in focus (and, for a follow-up, the
key terms of the previous customer turn) so that retrieval sees what the customer means.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extract import SPECIFIC_TYPES, Entity, extract_entities
from kg.text import ACTION_VERBS, content_words, is_content_word, norm_word, tokens
from kg.types import FocusEntity
from retrieval.text_features import stem

# Words that point back at something said before.
_ANAPHORA = frozenset(
    {
        *("it", "its", "it's", "itself", "that", "this", "those", "these", "they", "them", "their"),
        *("same", "other", "another", "one", "ones", "former", "latter", "there", "then"),
        *("again", "also", "too", "instead", "either", "else", "such"),
    }
)
_LEADING_CUES = re.compile(
    r"^\s*(?:and|also|so|but|or|what about|how about|and what about|what if|same for|then"
    r"|ok(?:ay)?,? (?:and|so|but))\b",
    re.IGNORECASE,
)
# Pronouns that stand for the thing an action is done to ("turn it off", "reset them").
_OBJECT_PRONOUNS = frozenset({"it", "them", "that", "this", "these", "those"})
# Of those, the demonstratives point at what was just said rather than at the conversation's subject: after
# "How do I set a cleaning schedule?", "how do I turn *that* off?" means the schedule, where "it" is as often
# the product ("turn it off" after a question about the cartridge).
_DEMONSTRATIVES = frozenset({"that", "this", "these", "those"})
# Words that undo each other: "switch on" / "turn off", "pair" / "unpair".
_UNDO_PAIRS = (
    ("on", "off"),
    ("start", "stop"),
    ("enable", "disable"),
    ("activate", "deactivate"),
    ("open", "close"),
    ("connect", "disconnect"),
    ("pair", "unpair"),
    ("lock", "unlock"),
    ("mute", "unmute"),
    ("install", "uninstall"),
    ("show", "hide"),
)
_OPPOSITE = {a: b for a, b in _UNDO_PAIRS} | {b: a for a, b in _UNDO_PAIRS}
# Entity types that say nothing about which knowledge-base passage answers the question.
_NOT_FOR_RETRIEVAL = frozenset({"email", "phone", "order_number", "serial_number"})


@dataclass(frozen=True)
class FollowUp:
    is_followup: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RewriteConfig:
    """Knobs of :func:`rewrite_query`; the defaults were tuned on doc2dial (benchmarks/tune/doc2dial_rewrite.py)."""

    max_carried: int = 4  # focus entities added to a follow-up
    max_carried_standalone: int = 2  # focus entities added to a turn that names its subject
    min_score: float = 0.2  # carried entities below this focus score are left out
    previous_turn_terms: int = 6  # content words of the previous customer turn added to a follow-up
    few_content_words: int = 3  # a turn with at most this many content words counts as underspecified
    # A follow-up that asks for a procedure of its own ("and how do I turn it off?": an action verb)
    # carries only the conversation's subject (product, model, error code), not the earlier turn's topic:
    # False carries topics and the previous turn's terms into every follow-up.
    own_request_carries_subject_only: bool = True
    # ... unless it undoes what the previous turn asked, of a pronoun ("How do I switch on the ionizer?" ->
    # "and how do I turn *it* off again?"), or acts on a demonstrative ("how do I turn *that* off?" after "How
    # do I set a cleaning schedule?"): the pronoun is the thing the previous turn was about, so that turn's
    # terms are carried too. (After "How often should I change the cartridge?", "it" is still the product.)
    reversal_carries_previous_terms: bool = True


DEFAULT_REWRITE = RewriteConfig()


# The words of _ANAPHORA that point back whatever else the turn says ("there", "one", "also" and "then" are as
# often new questions: "Is there a warranty?", "Do you also sell mops?").
_POINTING_BACK = _ANAPHORA - {"there", "then", "one", "ones", "also", "too", "either", "such"}


def points_back(turn_text: str) -> bool:
    """The turn leans on what was said before: it opens by continuing ("and ...", "what about ...") or has a
    word that points back ("it", "that", "those", "else", "again")."""
    return bool(_LEADING_CUES.match(turn_text)) or any(t.lower in _POINTING_BACK for t in tokens(turn_text))


def detect_followup(
    turn_text: str, entities: Sequence[Entity] | None = None, config: RewriteConfig = DEFAULT_REWRITE
) -> FollowUp:
    """Whether ``turn_text`` depends on earlier turns, and why.

    ``entities`` are the turn's entities if the caller already extracted them (with the workspace
    dictionary); otherwise they are extracted here without a dictionary.
    """
    found = list(entities) if entities is not None else extract_entities(turn_text)
    words = [t.lower for t in tokens(turn_text)]
    reasons: list[str] = []
    if any(w in _ANAPHORA for w in words):
        reasons.append("anaphora")
    if _LEADING_CUES.match(turn_text):
        reasons.append("continuation")
    n_content = len(content_words(turn_text))
    if n_content <= config.few_content_words:
        reasons.append("few_content_words")
    named = [e for e in found if e.type in SPECIFIC_TYPES or e.type in {"setting", "menu"}]
    if not found:
        reasons.append("no_entity")
    if named:
        # A turn that names a product, model, error code or setting stands on its own.
        return FollowUp(False, tuple(reasons))
    leaning = "anaphora" in reasons or "continuation" in reasons
    is_followup = (leaning and n_content <= config.few_content_words + 2) or not found or n_content <= 1
    return FollowUp(is_followup, tuple(reasons))


def points_at_previous(turn_text: str) -> bool:
    """Whether the turn asks for an action on a demonstrative standing for a thing ("how do I turn that off?",
    "can I delete those?"), not on a thing it names ("turn that schedule off": the demonstrative is a
    determiner there) and not with "that" as a conjunction ("I read that it ...": no action verb acts on it)."""
    found = tokens(turn_text)
    for i, token in enumerate(found):
        if token.lower not in _DEMONSTRATIVES or i == 0 or found[i - 1].lower not in ACTION_VERBS:
            continue
        following = found[i + 1] if i + 1 < len(found) else None
        if following is None or not is_content_word(following.lower):
            return True
    return False


def reverses(turn_text: str, previous_turn: str) -> bool:
    """Whether ``turn_text`` asks, of a pronoun, to undo what ``previous_turn`` asked ("and how do I turn it off
    again?" after "How do I switch on the ionizer?"): then the pronoun is the thing the previous turn acted on."""
    words = {t.lower for t in tokens(turn_text)}
    before = {t.lower for t in tokens(previous_turn)}
    return bool(words & _OBJECT_PRONOUNS) and any(_OPPOSITE.get(w) in before for w in words)


# Determiners that point at one particular thing ("the fast food chain", "this language"). "that" is left out:
# it is as often a conjunction ("I heard that taxes rise") as a determiner.
DEFINITE_DETERMINERS = frozenset({"the", "this", "these", "those"})
# Words after "the" that make a phrase about no particular thing ("the best way", "the same", "the difference").
_NOT_A_SUBJECT = frozenset(
    "best worst most least same other following whole entire main difference differences way ways time world rest "
    "number amount average".split()
)
_PHRASE_WORDS = 3


def unresolved_reference(question: str, earlier_turns: Sequence[str]) -> str | None:
    """The first "the / this / these / those X" of ``question`` none of whose words an earlier turn used, or
    None. Asked after a turn about disaster aid, "How did the fast food chain establish itself?" means one
    particular chain the conversation never named: ask which, rather than guess. With no earlier turns every
    such phrase is unresolved: callers ask only of follow-ups ("How long is the warranty?" opening a
    conversation means the company's warranty). The phrase is returned as written (up to three content words
    after the determiner)."""
    said = {stem(w) for turn in earlier_turns for w in content_words(turn)}
    found = tokens(question)
    for i, token in enumerate(found):
        if token.lower not in DEFINITE_DETERMINERS:
            continue
        phrase = []
        previous = token
        for following in found[i + 1 : i + 1 + _PHRASE_WORDS]:
            if (
                question[previous.end : following.start].strip()
                or not is_content_word(following.lower)
                or following.lower.endswith("ly")
            ):
                break  # punctuation, a function word, a verb or an adverb ends the phrase
            phrase.append(following)
            previous = following
        if not phrase or phrase[0].lower in _NOT_A_SUBJECT:
            continue
        if not any(stem(norm_word(t.text)) in said for t in phrase):
            return question[token.start : phrase[-1].end]
    return None


def is_followup(turn_text: str, entities: Sequence[Entity] | None = None) -> bool:
    """Shorthand for ``detect_followup(...).is_followup``."""
    return detect_followup(turn_text, entities).is_followup


def rewrite_query(
    turn_text: str,
    focus: Sequence[FocusEntity],
    history: Sequence[str],
    config: RewriteConfig = DEFAULT_REWRITE,
) -> str:
    """The retrieval query for this turn: the turn's own words first, then what it leaves implicit.

    ``focus`` is the conversation focus after this turn (:meth:`GraphStore.record_turn`); ``history``
    holds the earlier customer turns, oldest first (not including this one). A turn that names its
    subject gets at most ``max_carried_standalone`` carried entities of types it did not name itself
    (the product or error code of the conversation), and so does a follow-up that asks something of its
    own (see :class:`RewriteConfig`); any other follow-up gets up to ``max_carried`` carried entities and
    the key terms of the previous customer turn. A follow-up that acts on "that" (:func:`points_at_previous`)
    carries the subject and what the previous turn was about, not its verb. Words already in the query are
    not repeated.
    """
    followup = detect_followup(turn_text, config=config).is_followup
    present = {norm_word(t.text) for t in tokens(turn_text)}
    named_types = {f.type for f in focus if f.mentioned}
    additions: list[str] = []

    def add(text: str) -> None:
        words = [norm_word(t.text) for t in tokens(text)]
        if words and not all(w in present for w in words):
            additions.append(text)
            present.update(words)

    carried = [f for f in focus if not f.mentioned and f.score >= config.min_score and f.type not in _NOT_FOR_RETRIEVAL]
    turn_words = {t.lower for t in tokens(turn_text)}
    own_request = config.own_request_carries_subject_only and bool(turn_words & ACTION_VERBS)
    pointed = False
    previous_terms: list[str] = content_words(history[-1]) if history else []
    if own_request and config.reversal_carries_previous_terms and history:
        if reverses(turn_text, history[-1]):
            own_request = False
        elif points_at_previous(turn_text):
            # "that" is the thing the previous turn was about, not what it did to it ("set" would draw the
            # retrieval back to setting the schedule when the customer asks to turn it off), nor the rest of
            # the conversation's topics: the turn still asks for a procedure of its own.
            previous_terms = content_words(history[-1], things_only=True)
            pointed = True
    if not followup or own_request:
        carried = [f for f in carried if f.type in SPECIFIC_TYPES and f.type not in named_types]
    for f in carried[: config.max_carried if followup else config.max_carried_standalone]:
        add(f.value)
    if followup and (pointed or not own_request) and config.previous_turn_terms > 0:
        terms = [w for w in previous_terms if w not in present]
        for term in dict.fromkeys(terms):
            if len(additions) >= config.max_carried + config.previous_turn_terms:
                break
            add(term)
    return " ".join([turn_text.strip(), *additions]).strip()
