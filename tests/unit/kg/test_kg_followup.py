"""Follow-up detection, conversation focus and query rewriting (pure logic)."""

from __future__ import annotations

import pytest

from kg.extract import extract_entities
from kg.followup import (
    RewriteConfig,
    detect_followup,
    is_followup,
    points_at_previous,
    reverses,
    rewrite_query,
    unresolved_reference,
)
from kg.memory import Mention, compute_focus
from kg.types import FocusEntity


@pytest.mark.parametrize(
    "turn",
    [
        "and how do I turn it off again?",
        "does that work with the other remote?",
        "what about the second one?",
        "How long does it take?",
        "ok, and then?",
        "Is that free?",
    ],
)
def test_turns_that_name_nothing_are_followups(turn: str) -> None:
    assert is_followup(turn)


@pytest.mark.parametrize(
    "turn",
    [
        "My UN55TU8000 shows error E-101 when I turn it on",
        "How do I renew my driver license online in New York State?",
        "The Auto Power Off setting turns my TV off after four hours, how can I disable the timer?",
        "Where do I apply for disability benefits if I live abroad?",
    ],
)
def test_turns_that_name_their_subject_are_not_followups(turn: str) -> None:
    assert not is_followup(turn)


def test_detect_followup_says_why() -> None:
    result = detect_followup("and how do I turn it off again?")
    assert result.is_followup
    assert {"anaphora", "continuation", "no_entity"} <= set(result.reasons)


def _mentions(turns: list[str]) -> list[Mention]:
    return [
        Mention(e.key, e.type, e.value, turn)
        for turn, text in enumerate(turns)
        for e in {e.key: e for e in extract_entities(text)}.values()
    ]


def test_focus_keeps_turn_one_product_and_code_through_a_turn_that_names_nothing() -> None:
    turns = ["My UN55TU8000 shows E-101", "it happens after the update", "and how do I turn it off again?"]
    focus = compute_focus(_mentions(turns), current_turn=2)
    keys = [f.key for f in focus]
    assert "entity:model:un55tu8000" in keys and "entity:error_code:e101" in keys
    assert not any(f.mentioned for f in focus)  # turn 3 named nothing
    model = next(f for f in focus if f.type == "model")
    assert model.last_turn == 0 and 0 < model.score < 1


def test_named_entities_come_before_carried_ones_and_scores_decay() -> None:
    turns = ["My UN55TU8000 shows E-101", "what does the picture mode do?"]
    focus = compute_focus(_mentions(turns), current_turn=1)
    assert focus[0].mentioned and focus[0].value.lower() == "picture mode"
    carried = [f for f in focus if not f.mentioned]
    assert carried and all(f.score < 1.0 for f in carried)
    later = compute_focus(_mentions(turns), current_turn=4)
    model_now = next(f for f in focus if f.type == "model")
    model_later = next(f for f in later if f.type == "model")
    assert model_later.score < model_now.score


def test_a_new_model_number_supersedes_the_old_one() -> None:
    turns = ["My UN55TU8000 shows E-101", "my other TV is a QN65Q80T", "does it also do that?"]
    focus = compute_focus(_mentions(turns), current_turn=2)
    score = {f.value: f.score for f in focus}
    assert score["UN55TU8000"] < 0.5 * score["QN65Q80T"]


def test_bot_mentions_keep_an_entity_alive_but_never_count_as_named() -> None:
    mentions = [Mention("entity:setting:auto power off", "setting", "Auto Power Off", 0, by_customer=False)]
    focus = compute_focus(mentions, current_turn=0)
    assert focus and not focus[0].mentioned and focus[0].score < 0.9 * 0.6


def test_focus_ignores_mentions_after_the_current_turn() -> None:
    focus = compute_focus(_mentions(["hello", "my UN55TU8000 is broken"]), current_turn=0)
    assert focus == []


def _focus(*items: tuple[str, str, float, bool]) -> list[FocusEntity]:
    return [FocusEntity(f"entity:{t}:{v.lower()}", t, v, s, m, 0) for t, v, s, m in items]


def test_rewrite_adds_carried_entities_to_a_followup() -> None:
    focus = _focus(("model", "UN55TU8000", 0.6, False), ("error_code", "E-101", 0.6, False))
    query = rewrite_query("and how do I turn it off again?", focus, ["My UN55TU8000 shows E-101"])
    assert query.startswith("and how do I turn it off again?")
    assert "UN55TU8000" in query and "E-101" in query


def test_rewrite_adds_key_terms_of_the_previous_customer_turn_to_a_followup() -> None:
    query = rewrite_query("how long does that take?", [], ["I want to replace my lost social security card"])
    assert "social" in query and "security" in query and "card" in query
    assert "want" not in query.split()[5:]  # verbs and function words are not key terms


def test_rewrite_leaves_a_standalone_turn_mostly_alone() -> None:
    focus = _focus(
        ("setting", "Picture Mode", 1.0, True),
        ("model", "UN55TU8000", 0.6, False),
        ("topic", "sound bar", 0.4, False),
        ("email", "j***@x.org", 0.3, False),
    )
    query = rewrite_query("What does the Picture Mode setting change on the screen?", focus, ["sound bar question"])
    # The conversation's model is carried (the turn names no model); a stale topic and personal data are not.
    assert "UN55TU8000" in query
    assert "sound bar" not in query and "x.org" not in query


def test_rewrite_never_repeats_words_and_respects_the_limits() -> None:
    focus = _focus(*[("topic", f"topic{i} words", 0.5, False) for i in range(10)])
    config = RewriteConfig(max_carried=2, previous_turn_terms=0)
    query = rewrite_query("and that?", focus, [], config)
    assert query == "and that? topic0 words topic1 words"
    assert rewrite_query("and the remote?", _focus(("topic", "remote", 0.5, False)), []) == "and the remote?"


def test_rewrite_drops_carried_entities_below_the_score_floor() -> None:
    focus = _focus(("model", "UN55TU8000", 0.1, False))
    assert rewrite_query("and then?", focus, []) == "and then?"


def test_followup_with_its_own_request_carries_the_subject_not_the_last_topic() -> None:
    focus = [
        FocusEntity("entity:topic:cartridge", "topic", "cartridge", 0.42, False, 1),
        FocusEntity("entity:product:aquapure 300", "product", "AquaPure 300", 0.36, False, 0),
    ]
    history = ["How do I switch on my AquaPure 300?", "How often should I change the cartridge?"]
    query = rewrite_query("and how do I turn it off again?", focus, history)
    assert "AquaPure 300" in query
    assert "cartridge" not in query
    # a follow-up without a request of its own still takes the earlier topic
    assert "cartridge" in rewrite_query("and how long does that take?", focus, history)


def test_frequency_adverbs_are_no_topics() -> None:
    assert [e.value for e in extract_entities("How often should I change the cartridge?")] == ["cartridge"]


@pytest.mark.parametrize(
    ("turn", "previous", "expected"),
    [
        ("and how do I turn it off again?", "How do I switch on the ionizer?", True),
        ("how do I stop it?", "How can I start the self-clean cycle?", True),
        ("and how do I unpair them?", "How do I pair the earbuds?", True),
        ("and how do I turn it off again?", "How often should I change the cartridge?", False),  # "it": the product
        ("how do I turn the fan off?", "How do I switch on the ionizer?", False),  # names its own object
    ],
)
def test_a_follow_up_that_undoes_the_previous_request_on_a_pronoun(turn: str, previous: str, expected: bool) -> None:
    assert reverses(turn, previous) is expected


def test_undoing_the_previous_request_carries_what_it_acted_on() -> None:
    rewritten = rewrite_query("and how do I turn it off again?", [], ["How do I switch on the ionizer?"])
    assert "ionizer" in rewritten
    kept_to_itself = rewrite_query("and how do I turn it off again?", [], ["How often should I change the cartridge?"])
    assert "cartridge" not in kept_to_itself


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ("and how do I turn that off?", True),
        ("Can I delete those?", True),
        ("how do I reset this again?", True),
        ("how do I turn that schedule off?", False),  # a determiner: the turn names its object
        ("I read that it turns off by itself", False),  # a conjunction: no action verb acts on it
        ("and how do I turn it off?", False),  # "it" is as often the product
    ],
)
def test_an_action_on_a_demonstrative_points_at_the_previous_turn(turn: str, expected: bool) -> None:
    assert points_at_previous(turn) is expected


def test_a_demonstrative_carries_what_the_previous_turn_was_about_not_its_verb_or_older_topics() -> None:
    focus = [
        FocusEntity("entity:product:dustly r5", "product", "Dustly R5", 0.5, False, 0),
        FocusEntity("entity:topic:app", "topic", "app", 0.4, False, 0),
    ]
    history = ["How do I pair my Dustly R5 with the app?", "How do I set a cleaning schedule?"]
    query = rewrite_query("and how do I turn that off?", focus, history)
    assert query == "and how do I turn that off? Dustly R5 cleaning schedule"


@pytest.mark.parametrize(
    ("question", "earlier", "phrase"),
    [
        # A new subject, pointed at as if it had been named (MTRAG-UN's underspecified turns are like these).
        (
            "How did the fast food chain establish a presence in the United States?",
            ["What decides how much aid FEMA provides?"],
            "the fast food chain",
        ),
        ("Where is this language officially spoken?", ["How do reliquaries look?"], "this language"),
        # Named before, by the customer or by the bot: resolved.
        ("What is the current price of the bond?", ["And bond price?", "The bond price is what you pay today."], None),
        ("How do I pair the remote?", ["My Smart Remote stopped working."], None),
        # Phrases about no particular thing.
        ("What is the best way to reset my router?", [], None),
        ("Is the difference noticeable?", ["Compare QLED and OLED."], None),
        ("Do I need a licence?", ["Fishing in Maine."], None),
    ],
)
def test_a_particular_thing_nobody_named_is_unresolved(question: str, earlier: list[str], phrase: str | None) -> None:
    assert unresolved_reference(question, earlier) == phrase
