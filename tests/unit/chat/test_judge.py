"""chat.judge.Judge and chat.decide.decide on hand-made candidates (pure logic, a toy encoder).

The encoder is a deterministic hashed bag of words, so "the sentence that shares the question's words" is the
most similar; the models are small hand-set logistic models, so each test states what it relies on. The shipped
calibration is checked in tests/unit/retrieval/test_rerank.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from chat.decide import decide
from chat.evidence import Evidence
from chat.inputs import NormalisedTurn
from chat.judge import Judge, code_first
from chat.policy import PolicyVerdict
from chat.replies import canned_reply
from chat.vocabulary import Correction
from core.models import Conversation
from core.settings import Settings
from kg.extract import Entity
from kg.types import TurnContext
from retrieval.answerability import AnswerabilityModel, UnderspecifiedModel
from retrieval.protocol import Hit
from retrieval.rerank import EvidenceReranker, LinearWeights
from retrieval.text_features import stem, words


def encode(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in words(text):
            out[row, int(hashlib.md5(stem(word).encode()).hexdigest(), 16) % 256] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def hit(chunk: str, text: str, score: float, ranks: dict[str, int]) -> Hit:
    return Hit(chunk, f"doc-{chunk}", "manual.pdf", "TV manual", "", None, "text", text, score, dict(ranks), {})


CANDIDATES = [
    hit("a", "The remote pairs automatically. Batteries last a year.", 0.9, {"dense": 1}),
    hit("b", "Picture modes change brightness. Sound modes change the equaliser.", 0.8, {"dense": 2, "sparse": 2}),
    hit(
        "c",
        "Many settings exist. To cancel a scheduled recording, open Recordings and choose Delete.",
        0.7,
        {"dense": 3, "sparse": 1},
    ),
]
RERANK = LinearWeights(0.0, {"sentence_max": 4.0, "coverage": 2.0})
ANSWER = AnswerabilityModel(LinearWeights(-3.0, {"coverage_top": 3.0, "top_sentence": 2.0}), threshold=0.5)
UNDER = UnderspecifiedModel(LinearWeights(-2.0, {"pronoun": 3.0, "coverage_union": -1.0}), threshold=0.5)
CONTEXT = TurnContext(turn_index=0, entities=[], focus=[], is_followup=False)


def judge() -> Judge:
    return Judge(EvidenceReranker(encode, RERANK), ANSWER, UNDER, clarify_threshold=0.5)


def test_the_answering_passage_comes_first_and_scores_answerable() -> None:
    out = judge().assess("How do I cancel a scheduled recording?", CANDIDATES, {}, CONTEXT)
    assert out.hits[0].chunk_id == "c"
    assert out.answerability >= 0.5 and not out.out_of_scope and not out.underspecified
    assert out.features["coverage_top"] == 1.0 and out.features["answerability"] == out.answerability


def test_an_unrelated_question_scores_low_and_is_out_of_scope() -> None:
    out = judge().assess("Replace the oil filter of a lawn mower", CANDIDATES, {}, CONTEXT)
    assert out.answerability < 0.5 and out.out_of_scope


def test_no_candidates_means_nothing_to_answer_with() -> None:
    out = judge().assess("How do I cancel a scheduled recording?", [], {}, CONTEXT)
    assert out.hits == [] and out.answerability == 0.0 and out.out_of_scope


def test_a_question_that_points_back_is_underspecified() -> None:
    out = judge().assess("Is it safer?", CANDIDATES, {}, CONTEXT)
    assert out.underspecified and out.features["underspecified"] >= 0.5


def test_an_underspecified_question_carries_the_phrase_it_leaves_open() -> None:
    earlier = ["How do I record a show?", "Press the record button."]
    vague = judge().assess("Does the Bravia receiver work with it?", CANDIDATES, {}, CONTEXT, earlier=earlier)
    assert vague.underspecified and vague.unclear == "the Bravia receiver"
    named = judge().assess("Can the recording be cancelled with it?", CANDIDATES, {}, CONTEXT, earlier=earlier)
    assert named.underspecified and named.unclear is None  # "the recording": said before
    opening = judge().assess("Does the Bravia receiver work with it?", CANDIDATES, {}, CONTEXT)
    assert opening.underspecified and opening.unclear is None  # no conversation yet: nothing to point back at


def test_a_photo_turn_keeps_the_first_stage_order_but_is_scored() -> None:
    photo = [hit("a", CANDIDATES[0].text, 0.9, {"visual": 1}), *CANDIDATES[1:]]
    out = judge().assess("cancel a scheduled recording", photo, {}, CONTEXT)
    assert [h.chunk_id for h in out.hits] == ["a", "b", "c"]
    assert "rerank" in out.hits[0].scores and 0.0 < out.answerability < 1.0
    assert out.features["coverage_union"] == 1.0  # the answering passage is among the top three


def evidence(answerability: float, underspecified: bool, out_of_scope: bool = False) -> Evidence:
    hits = [] if out_of_scope else list(CANDIDATES)
    return Evidence("q", hits, answerability, underspecified, out_of_scope, {}, [], [])


def test_decide_answers_asks_or_escalates_on_the_thresholds() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    none, turn = PolicyVerdict("none"), NormalisedTurn(text="q")
    fresh = Conversation(failed_turns=0)
    at = settings.answer_threshold
    assert decide(none, evidence(at, False), turn, fresh, settings).kind == "answer"
    assert decide(none, evidence(at - 0.01, True), turn, fresh, settings).reason == "underspecified"
    assert decide(none, evidence(at - 0.01, False), turn, fresh, settings).reason == "no_evidence"
    assert decide(none, evidence(0.0, False, out_of_scope=True), turn, fresh, settings).reason == "out_of_scope"
    tired = Conversation(failed_turns=settings.max_failed_turns)
    assert decide(none, evidence(at - 0.01, True), turn, tired, settings).reason == "repeated_failure"


def test_a_complaint_that_names_nothing_is_asked_back_until_something_was_answered() -> None:
    """Whatever the underspecified model reads in "It's not working" (a trial knowledge base left it at 0.42 and
    not underspecified: escalated as no_evidence), the bot asks what is wrong; after an answer, "it doesn't
    work" says the answer failed and the evidence decides."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    none, fresh = PolicyVerdict("none"), Conversation(failed_turns=0)
    complaint = NormalisedTurn(text="It's not working")
    opening = decide(none, evidence(0.42, False), complaint, fresh, settings)
    assert (opening.kind, opening.reason) == ("clarify", "underspecified")
    answered = evidence(0.42, False)
    answered.history = [("customer", "How do I pair a node?"), ("bot", "Open the app and tap Add node.")]
    assert decide(none, answered, complaint, fresh, settings).reason == "no_evidence"
    tired = Conversation(failed_turns=settings.max_failed_turns)
    assert decide(none, evidence(0.42, False), complaint, tired, settings).reason == "repeated_failure"
    named = decide(none, evidence(0.42, False), NormalisedTurn(text="The remote is not working"), fresh, settings)
    assert named.reason == "no_evidence"
    # The wording as typed decides, not the knowledge-base words offered for search ("wont" -> "network").
    offered = NormalisedTurn(text="it wont work", text_correction=Correction("it wont network work"))
    assert decide(none, evidence(0.42, False), offered, fresh, settings).reason == "underspecified"


def test_a_clarifying_question_asks_about_the_phrase_left_open() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    vague = evidence(settings.answer_threshold - 0.01, True)
    vague.unclear = "the fast food chain"
    decision = decide(PolicyVerdict("none"), vague, NormalisedTurn(text="q"), Conversation(failed_turns=0), settings)
    assert decision.kind == "clarify" and decision.subject == "the fast food chain"
    assert canned_reply(decision, NormalisedTurn(text="q")).startswith("Which fast food chain do you mean?")
    vague.unclear = None
    plain = decide(PolicyVerdict("none"), vague, NormalisedTurn(text="q"), Conversation(failed_turns=0), settings)
    assert "which product, feature or error" in canned_reply(plain, NormalisedTurn(text="q"))


CODES = [
    hit("e40", "E40: The heating element is overheating. Switch the machine off and let it cool.", 0.9, {"sparse": 1}),
    hit("e12", "E12: The water tank is empty. Refill the tank and push it into place.", 0.8, {"sparse": 2}),
]
# A model that scores nothing answerable: only the exact code can make the decision "answer".
STRICT = Judge(
    EvidenceReranker(encode, RERANK),
    AnswerabilityModel(LinearWeights(-6.0, {"coverage_top": 1.0}), threshold=0.5),
    UNDER,
    clarify_threshold=0.5,
)


def naming(value: str, kind: str = "error_code") -> TurnContext:
    entity = Entity(kind, value, value.lower(), 0, len(value))
    return TurnContext(turn_index=0, entities=[entity], focus=[], is_followup=False)


def test_a_code_the_best_passage_states_is_answered_though_the_score_is_low() -> None:
    out = STRICT.assess("What does E-40 mean?", CODES, {}, naming("E-40"))
    assert out.hits[0].chunk_id == "e40" and out.answerability < 0.5
    assert out.exact_identifier and out.features["exact_identifier"] == 1.0
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    found = Evidence("q", out.hits, out.answerability, False, False, {}, [], [], exact_identifier=True)
    decision = decide(PolicyVerdict("none"), found, NormalisedTurn(text="q"), Conversation(failed_turns=0), settings)
    assert decision.kind == "answer" and "states the code" in decision.detail


def test_asking_how_to_fix_a_code_is_answered_by_its_entry() -> None:
    # The entry says "Switch the machine off", never "fix" or "clear": asking for the remedy is the frame.
    for question in ("How do I fix E40?", "How can I clear error E40?", "How do I solve E40 on my machine?"):
        assert STRICT.assess(question, CODES, {}, naming("E40")).exact_identifier, question
    # Only for an error code: a model number's passage is not a repair guide.
    model = [hit("cm200", "The CM-200 has a 1.8-litre water tank and a steam wand.", 0.9, {"sparse": 1}), *CODES]
    assert STRICT.assess("What is the CM-200?", model, {}, naming("CM-200", "model")).exact_identifier
    assert not STRICT.assess("How do I fix the CM-200?", model, {}, naming("CM-200", "model")).exact_identifier


def test_a_code_the_knowledge_base_lacks_or_a_question_it_half_covers_is_not_exact() -> None:
    assert not STRICT.assess("What does E77 mean?", CODES, {}, naming("E77")).exact_identifier
    # E40 is stated, but nothing among the best passages says anything about a warranty.
    assert not STRICT.assess("Is E40 covered by the warranty?", CODES, {}, naming("E40")).exact_identifier
    # No code named: the wording alone never makes a passage exact.
    assert not STRICT.assess("What does the heating element do?", CODES, {}, CONTEXT).exact_identifier


def test_a_passage_with_the_named_codes_entry_is_read_first_but_not_one_that_mentions_it() -> None:
    """ "my screen says E-06" ranked E-06's fix steps (which do not name it) and the warranty's "Many errors, such
    as E-04, E-06 and E-07, can be fixed at home" above the code table's row."""
    steps = hit("steps", "- Switch the machine off and unplug it.\n- Remove all beans from the hopper.", 3.0, {})
    mention = hit("warranty", "Many errors, such as E-04, E-06 and E-07, can be fixed at home.", 2.0, {})
    table = "| E-04 | Water tank empty | Refill it. |\n| E-06 | Grinder blocked | Empty the hopper. |"
    row = hit("table", table, 1.0, {})
    assert [h.chunk_id for h in code_first([steps, mention, row], naming("E-06"))] == ["table", "steps", "warranty"]
    assert [h.chunk_id for h in code_first([steps, mention], naming("E-06"))] == ["steps", "warranty"]
    assert [h.chunk_id for h in code_first([steps, row], CONTEXT)] == ["steps", "table"]  # no code named
