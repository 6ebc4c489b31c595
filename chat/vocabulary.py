"""Voice transcripts corrected against the knowledge base's own words, for retrieval.

Speech recognition mishears the words a support question turns on ("privacy" heard as "primacy", "Bixby"
as "big speed", "screen burn" as "screenburn"): the recogniser writes ordinary English the knowledge base never
uses. Nearly every transcript word that no chunk of the knowledge base holds is such a mistake, so
:func:`correct_words` looks each of them up in the workspace's vocabulary (:class:`KbVocabulary`: every word of
its chunks with the number of chunks holding it) and offers the known words it most likely stands for:

- a word that is two known words run together ("screenburn") -> the two words; a word that with its
  neighbour spells a known word ("time shift") -> that word;
- a word, or the word and its neighbour run together ("big speed"), that sounds like a known word (a
  Metaphone-like :func:`sound_key` at most one edit apart) and is spelt close enough -> that word. A common
  English word ("lead", "week") gets no sound-alike of its own, only a join; a join that takes in a word the
  knowledge base uses must offer a more frequent one ("update team" is not "optimal").

The offer is added after the heard words (``mode="append"``, the default: the recogniser's words stay in the
query, wrong or not) or put in their place (``mode="replace"``). Words the knowledge base uses are never
touched, nor function words or the spoken names of symbols ("enable slash disable" for "enable/disable"). The
limits (:class:`CorrectionConfig`) were chosen on spoken emanual questions outside the voice
benchmark's sample (``benchmarks/tune/voice_vocabulary.py``); they are strict enough that a looser sound-alike
("channels" heard as "candles") is left alone. Pure logic, no I/O: the caller builds the vocabulary from the
workspace's chunk texts and keeps it (:mod:`chat.workspace_vocabulary`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from retrieval.text_features import frame_spans

_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
# Function words are never corrected nor offered: they carry no topic and sound like many things.
_STOPWORDS = frozenset(
    "a about after again all also am an and any are as at be because been before being but by can could did do "
    "does doing done for from get got had has have having he her here hers him his how i if in into is it its "
    "just let me more most my no nor not now of off on once only or other our out over own same she should so "
    "some such than that the their them then there these they this those through till to too under until up very "
    "was we were what when where which while who whom why will with would you your yours".split()
)
# Spoken names of symbols: a typed "enable/disable" is said "enable slash disable", but the knowledge base writes
# the symbol, so its name looks like a mistake; what it sounds like ("flash") is never what was meant.
_SYMBOL_NAMES = frozenset(
    "ampersand asterisk backslash bracket caret colon dash dot equals hash hashtag hyphen minus parenthesis percent "
    "plus semicolon slash tilde underscore".split()
)
# The most common English content words (a general frequency list's top, function words above left out): the
# recogniser writes them when it hears them, and a customer says them, so the knowledge base's sound-alike ("lead"
# -> "led", "week" -> "weak") is more often noise than the word meant. They are still joined with a neighbour
# ("big speed" -> "bixby"): two common words heard for one rare name is how a recogniser mishears it.
_COMMON = frozenset(
    """
    able accept across act action actually add age ago agree air allow almost alone along already although always
    america among amount animal another answer anyone anything appear apply approach area argue arm around arrive
    art article ask attack attention available away baby back bad bag ball bank bar base bear beat beautiful become
    bed begin behind believe best better big bill bit black blood blue board body book born both box boy break
    bring brother build building business buy call camera campaign cancer candidate capital car card care career
    carry case catch cause cell center central century certain certainly chair challenge chance change character
    charge check child choice choose church citizen city civil claim class clear clearly close coach cold collection
    college color come commercial common community company compare computer concern condition conference consider
    contain continue control cost country couple course court cover create crime cultural culture cup current
    customer cut dark data daughter day dead deal death debate decade decide decision deep defense degree describe
    design despite detail determine develop development die difference different difficult dinner direction
    director discover discuss discussion disease doctor dog door down draw dream drive drop drug during early east
    easy eat economic economy edge education effect effort eight either election else employee end energy enjoy
    enough enter entire environment especially establish even evening event ever every everybody everyone
    everything evidence exactly example executive exist expect experience expert explain eye face fact factor fail
    fall family far fast father fear federal feel feeling few field fight figure fill film final finally financial
    find fine finger finish fire firm first fish five floor fly focus follow food foot force foreign forget form
    former forward four free friend front full fund future game garden gas general generation girl give glass goal
    good government great green ground group grow growth guess gun guy hair half hand hang happen happy hard head
    health hear heart heat heavy help high himself history hit hold home hope hospital hot hotel hour house however
    huge human hundred husband idea identify image imagine impact important improve include including increase
    indeed indicate individual industry information inside instead institution interest interesting international
    interview investment involve issue item itself job join keep key kid kill kind kitchen know knowledge land
    language large last late later laugh law lawyer lay lead leader learn least leave left leg legal less letter
    level lie life light like likely line list listen little live local long look lose loss lot love low machine
    magazine main maintain major majority make man manage management manager many market marriage material matter
    maybe mean measure media medical meet meeting member memory mention message method middle might military
    million mind minute miss mission model modern moment money month morning mother mouth move movement movie much
    music must myself name nation national natural nature near nearly necessary need network never new news
    newspaper next nice night none north note nothing notice number occur offer office officer official often oil
    old open operation opportunity option order organization others outside owner page pain painting paper parent
    part participant particular particularly partner party pass past patient pattern pay peace people per perform
    performance perhaps period person personal phone physical pick picture piece place plan plant play player point
    police policy political politics poor popular population position positive possible power practice prepare
    present president pressure pretty prevent price private probably problem process produce product production
    professional professor program project property protect prove provide public pull purpose push put quality
    question quickly quite race radio raise range rate rather reach read ready real reality realize really reason
    receive recent recently recognize record red reduce reflect region relate relationship religious remain
    remember remove report represent republican require research resource respond response rest result return
    reveal rich right rise risk road rock role room rule run safe save say scene school science scientist score sea
    season seat second section security see seek seem sell send senior sense series serious serve service set
    seven several shake share shoot short shot show side sign significant similar simple simply since sing single
    sister sit site situation six size skill skin small smile social society soldier somebody someone something
    sometimes son song soon sort sound source south southern space speak special specific speech spend sport spring
    staff stage stand standard star start state statement station stay step still stock stop store story strategy
    street strong structure student study stuff style subject success successful suddenly suffer suggest summer
    support sure surface system table take talk task tax teach teacher team technology television tell ten tend
    term test thank theory thing think third thought thousand threat three throughout throw thus time today
    together tonight total tough toward town trade traditional training travel treat treatment tree trial trip
    trouble true truth try turn type understand unit upon usually value various view violence visit voice
    vote wait walk wall want war watch water way weapon wear week weight well west western whatever white whole
    wide wife win wind window wish within without woman wonder word work worker world worry write writer wrong yard
    yeah year yes yet young yourself
    """.split()
)
_VOWELS = frozenset("aeiouy")
_CODES = {"b": "P", "d": "T", "v": "F", "z": "S", "q": "K", "x": "KS"}


# --- the sound key ------------------------------------------------------------------------------------------------
def _letter_code(word: str, i: int) -> tuple[str, int]:
    """The sound code of ``word``'s letters at ``i`` ("" for a vowel or silent letter), and how many it used."""
    c, nxt, pair = word[i], word[i + 1 : i + 2], word[i : i + 2]
    if pair == "ch" or pair in ("ck", "qu"):
        return "K", 2  # "ch" as "k": recognisers hear "channel" as "candle"
    if pair == "sh" or (pair == "ti" and word[i + 2 : i + 3] in ("o", "a")):
        return "X", 2
    if pair == "ph":
        return "F", 2
    if pair == "th":
        return "0", 2
    if pair == "gh":
        return "", 2
    if c in "cg":
        if nxt in ("e", "i", "y"):
            return ("S", 1) if c == "c" else ("J", 1)
        return "K", 1
    if c in _VOWELS or c in "hw'":
        return "", 1
    # Voiced and voiceless pairs share a code: recognisers swap them more than any other consonants.
    return _CODES.get(c, c.upper()), 1


def sound_key(word: str) -> str:
    """A Metaphone-like key: consonant sounds, voiced and voiceless merged, repeats collapsed, vowels dropped
    except a leading one (``A``). "privacy" -> ``PRFS``, "primacy" -> ``PRMS``."""
    word = word.lower()
    codes = ["A"] if word[:1] in _VOWELS else []
    i = 0
    while i < len(word):
        code, used = _letter_code(word, i)
        for ch in code:
            if not codes or codes[-1] != ch:
                codes.append(ch)
        i += used
    return "".join(codes)


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two strings, or two lists of words."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _deletions(key: str) -> Iterator[str]:
    yield key
    for i in range(len(key)):
        yield key[:i] + key[i + 1 :]


# --- the vocabulary -----------------------------------------------------------------------------------------------
@dataclass
class KbVocabulary:
    """Every word of a knowledge base with the number of chunks (documents) that hold it, and an index of the
    content words by sound key (each key and its one-letter deletions)."""

    document_frequency: Counter[str] = field(default_factory=Counter)
    documents: int = 0
    _keys: dict[str, str] = field(default_factory=dict, repr=False)  # content word -> its sound key
    _by_key: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, texts: Iterable[str]) -> KbVocabulary:
        vocabulary = cls()
        for text in texts:
            vocabulary.add(text)
        return vocabulary

    def add(self, text: str) -> None:
        """Count one more chunk's words."""
        self.documents += 1
        for word in {w.removesuffix("'s") for w in _WORD.findall(text.lower())}:
            if self.document_frequency[word] == 0 and len(word) >= 3 and word not in _STOPWORDS and "'" not in word:
                self._keys[word] = sound_key(word)
                for key in _deletions(self._keys[word]):
                    self._by_key.setdefault(key, set()).add(word)
            self.document_frequency[word] += 1

    def __len__(self) -> int:
        return len(self.document_frequency)

    def frequency(self, word: str) -> int:
        return self.document_frequency.get(word.lower(), 0)

    def key_of(self, word: str) -> str:
        """The sound key of ``word`` (kept for the content words of the knowledge base)."""
        return self._keys.get(word) or sound_key(word)

    def sounding_like(self, word: str) -> set[str]:
        """Known content words whose sound key is at most one edit from ``word``'s (a superset: a shared
        deletion is not always one edit)."""
        out: set[str] = set()
        for key in _deletions(sound_key(word)):
            out |= self._by_key.get(key, set())
        return out


# --- the correction -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorrectionConfig:
    mode: Literal["append", "replace"] = "append"
    rare_df: int = 0  # a heard word in at most this many chunks is corrected (0: words the KB never uses)
    min_length: int = 3  # shorter heard words are left alone
    max_score: float = 0.6  # sound-key distance + letter distance (each over the longer length), at most
    max_letters: float = 0.5  # letter distance over the longer word's length, at most (single words)
    max_join_key: float = 0.2  # sound-key distance over the longer key's length, at most (two words run together)
    min_df: int = 2  # a known word offered must be in at least this many chunks
    split: bool = True  # offer "screen burn" for "screenburn"
    glue: bool = True  # offer "timeshift" for "time shift"
    join: bool = True  # offer "bixby" for "big speed"
    join_more_frequent: bool = True  # a join must offer a word more frequent than the known word it takes in
    common: bool = True  # no single-word offer for a common English word (it is still joined with a neighbour)


@dataclass(frozen=True)
class Correction:
    text: str  # the words for retrieval
    changes: tuple[tuple[str, str], ...] = ()  # (words as heard, known words offered)
    in_place: str | None = None  # the known words in place of the heard ones (None: nothing was changed)


def split_known(word: str, vocabulary: KbVocabulary, config: CorrectionConfig) -> str | None:
    """``word`` as two known words run together ("screenburn" -> "screen burn"), the most frequent pair."""
    lowered = word.lower()
    best: tuple[int, str] | None = None
    for i in range(3, len(lowered) - 2):
        head, tail = lowered[:i], lowered[i:]
        df = min(vocabulary.frequency(head), vocabulary.frequency(tail))
        if df >= config.min_df and head not in _STOPWORDS and tail not in _STOPWORDS and (best is None or df > best[0]):
            best = (df, f"{head} {tail}")
    return best[1] if best else None


def nearest_known(heard: str, vocabulary: KbVocabulary, config: CorrectionConfig, joined: bool = False) -> str | None:
    """The known word that sounds and is spelt most like ``heard`` within ``config``'s limits; ties go to the
    more frequent word. ``joined``: ``heard`` is two heard words run together, so only the sound counts."""
    found = _nearest(heard, vocabulary, config, joined)
    return found[1] if found else None


def _nearest(heard: str, vocabulary: KbVocabulary, config: CorrectionConfig, joined: bool) -> tuple[float, str] | None:
    """(score, known word) of :func:`nearest_known`; lower scores are closer."""
    key = sound_key(heard)
    best: tuple[float, int, str] | None = None
    for known in vocabulary.sounding_like(heard):
        df = vocabulary.frequency(known)
        longer = max(len(known), len(heard))
        if (
            known == heard
            or df < config.min_df
            or (not joined and abs(len(known) - len(heard)) > config.max_letters * longer)
        ):
            continue  # (the letter distance is at least the difference in length)
        other = vocabulary.key_of(known)
        key_edits = edit_distance(other, key)
        if key_edits > 1:
            continue
        key_part = key_edits / max(len(other), len(key), 1)
        letters = edit_distance(known, heard) / longer
        if joined:
            score, fits = key_part, key_part <= config.max_join_key and len(other) >= 4
        else:
            score = key_part + letters
            fits = letters <= config.max_letters and score <= config.max_score
        rank = (score, -df, known)
        if fits and (best is None or rank < best):
            best = rank
    return (best[0], best[2]) if best else None


def _plain(word: str) -> str:
    """``word`` lower-cased without a possessive "'s"; "" for another contraction ("I'm", "we'll")."""
    lowered = word.lower().removesuffix("'s")
    return "" if "'" in lowered else lowered


def _unknown(word: str, vocabulary: KbVocabulary, config: CorrectionConfig) -> bool:
    plain = _plain(word)
    return (
        len(plain) >= config.min_length
        and plain not in _STOPWORDS
        and plain not in _SYMBOL_NAMES
        and vocabulary.frequency(plain) <= config.rare_df
    )


# The words a question is framed with, beside the function words: a customer's "waht does E-09 meen" got "wait"
# and "menu" offered (the knowledge base's nearest words), which then outweighed the error code.
# Four letters or more ("gest" is the guest network's, not "get"), and none a word is one letter from ("does":
# "dose", "goes"; "thank": "tank"; "need": "feed"; "those": "hose"; "work": "worn").
_QUESTION_WORDS = frozenset(
    "what which where when there their should could would mean means meaning please hello about have".split()
)


def intended_question_word(word: str) -> str | None:
    """The function or frame word ``word`` (4 letters or more, lower case, no common English word itself)
    misspells by one letter changed, added, dropped or swapped ("waht" -> "what", "meen" -> "mean"), when it is
    the only such word: then no word of the knowledge base is meant, and the question reads right with it ("what
    does E-09 mean" is a question about E-09 alone). "want", "tank" or "hose" are words, not misspellings."""
    if len(word) < 4 or word in _QUESTION_WORDS or is_common(word):
        return None
    near = [w for w in _QUESTION_WORDS if abs(len(word) - len(w)) <= 1 and _one_edit(word, w)]
    return near[0] if len(near) == 1 else None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one substitution, insertion, deletion (:func:`edit_distance`) or
    swap of two neighbouring letters ("waht")."""
    if edit_distance(a, b) == 1:
        return True
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def is_common(word: str) -> bool:
    """``word`` is a common English word, or one with an "-s", "-es", "-ed", "-d" or "-ing" ending ("means")."""
    plain = _plain(word)
    stems = (plain, *(plain[: -len(end)] for end in ("s", "es", "ed", "d", "ing") if plain.endswith(end)))
    return any(stem in _COMMON for stem in stems)


def _pairs(text: str, words: list[re.Match[str]], i: int, framed: frozenset[int]) -> Iterator[tuple[int, str, str]]:
    """(index of the first, first, second) for ``words[i]`` and each neighbour it can run together with: nothing
    but a space between them (not a comma or a sentence end), neither a function word nor a symbol's name, nor a
    word of the question's frame (``framed``)."""
    for first in (i, i - 1):
        if first < 0 or first + 1 >= len(words) or not text[words[first].end() : words[first + 1].start()].isspace():
            continue
        if first in framed or first + 1 in framed:
            continue
        a, b = (_plain(w.group()) for w in words[first : first + 2])
        if all(p and p not in _STOPWORDS and p not in _SYMBOL_NAMES for p in (a, b)):
            yield first, a, b


def _offer(
    text: str,
    words: list[re.Match[str]],
    i: int,
    framed: frozenset[int],
    vocabulary: KbVocabulary,
    config: CorrectionConfig,
) -> tuple[int, int, str] | None:
    """(first word, last word, known words) for the unknown heard word ``words[i]``, or None: its split into
    two known words, or the known word it and a neighbour spell together, if it has one; else the closest of
    the known word it sounds like and those it and a neighbour run together sound like."""
    heard = _plain(words[i].group())
    single = not (config.common and is_common(heard))
    pairs = list(_pairs(text, words, i, framed)) if config.join or config.glue else []
    if single and config.split and (split := split_known(heard, vocabulary, config)):
        return i, i, split
    for first, a, b in pairs if config.glue else ():
        if vocabulary.frequency(a + b) >= config.min_df:  # "time shift" -> "timeshift"
            return first, first + 1, a + b
    offers: list[tuple[float, int, int, str]] = []
    if single and (found := _nearest(heard, vocabulary, config, joined=False)):
        offers.append((found[0], i, i, found[1]))
    for first, a, b in pairs if config.join else ():
        found = _nearest(a + b, vocabulary, config, joined=True)
        # A join that takes in a known word must offer a more frequent one: "update team" is not "optimal".
        if found and (
            not config.join_more_frequent or vocabulary.frequency(found[1]) > max(map(vocabulary.frequency, (a, b)))
        ):
            offers.append((found[0], first, first + 1, found[1]))
    if not offers:
        return None
    _, first, last, known = min(offers)
    return first, last, known


def correct_words(text: str, vocabulary: KbVocabulary, config: CorrectionConfig | None = None) -> Correction:
    """``text`` with the known words offered for each word the knowledge base does not use, after the heard
    words (append) or in their place (replace); unchanged when the vocabulary is empty or nothing is close."""
    config = config or CorrectionConfig()
    if not vocabulary.documents:
        return Correction(text)
    words = list(_WORD.finditer(text))
    # The question's frame is read, not matched ("says" in "my screen says E-06"): a word of it is offered
    # nothing, nor joined with a neighbour ("screen says" had been offered "signs", which broke the frame and made
    # "screen" a word the answer must hold). The customer's device word is still corrected ("my routr shows").
    spans = frame_spans(text, devices=False)
    framed = frozenset(k for k, word in enumerate(words) if any(s <= word.start() < e for s, e in spans))
    parts: list[str] = []  # the text for retrieval
    placed: list[str] = []  # the text with the known words in place
    changes: list[tuple[str, str]] = []
    last, i = 0, 0
    while i < len(words):
        heard = words[i].group()
        if i in framed:
            i += 1
            continue
        unknown = _unknown(heard, vocabulary, config)
        meant = intended_question_word(heard.lower()) if unknown else None
        if meant is not None:  # always in place: "waht" beside "what" would still read as a word no passage has
            changes.append((heard, meant))
            parts.append(f"{text[last : words[i].start()]}{meant}")
            placed.append(parts[-1])
            last, i = words[i].end(), i + 1
            continue
        offer = _offer(text, words, i, framed, vocabulary, config) if unknown else None
        if offer is None or words[offer[0]].start() < last:
            i += 1
            continue
        first, end, known = offer
        start, stop = words[first].start(), words[end].end()
        changes.append((text[start:stop], known))
        placed.append(f"{text[last:start]}{known}")
        parts.append(f"{text[last:stop]} {known}" if config.mode == "append" else placed[-1])
        last, i = stop, end + 1
    parts.append(text[last:])
    placed.append(text[last:])
    return Correction("".join(parts), tuple(changes), "".join(placed))
