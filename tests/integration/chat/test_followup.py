"""A follow-up that names nothing is answered from the conversation's subject, not from the words alone.

Real milvus-lite, SQLite, embedder and the default generator, through the HTTP API. The knowledge base has two
products that both have a "turn off" section; the one of the fan is written the way the follow-up is phrased,
so the follow-up's words alone lead there. After a conversation about the water filter, the same words must
lead to the water filter's section: the query is rewritten with the conversation's focus and the earlier
turns join the fusion.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.chat.chatworld import ChatWorld, Customer, KbFile, markdown
from tests.integration.chat.conftest import MakeChatWorld

pytestmark = pytest.mark.integration

FILTER_OFF = "hold the power key for five seconds until the blue ring fades"
FAN_OFF = "press the round button on the base of the fan twice"
FILTER = (
    "aquapure-300.md",
    markdown(
        "AquaPure 300 water filter",
        "## Switching the AquaPure 300 on\n\nPlug the AquaPure 300 in and press its power key once; the blue ring "
        "lights up while the filter primes.",
        f"## Switching the AquaPure 300 off\n\nTo stop the AquaPure 300, {FILTER_OFF}. The filter then drains.",
        "## AquaPure 300 cartridge\n\nReplace the AquaPure 300 cartridge every six months, or when the ring turns red.",
    ),
)
FAN = (
    "breezemax-fan.md",
    markdown(
        "BreezeMax tower fan",
        "## Starting the BreezeMax\n\nPress the round button on the base of the BreezeMax once to start it.",
        f"## How to turn it off again\n\nTo turn it off again, {FAN_OFF}.",
        "## Cleaning the BreezeMax\n\nWipe the BreezeMax grille with a dry cloth once a month.",
    ),
)
KB: list[KbFile] = [FILTER, FAN]
FOLLOW_UP = "and how do I turn it off again?"


@pytest.fixture(scope="module")
def followup_world(make_chat_world: MakeChatWorld) -> ChatWorld:
    # Answer whenever there is evidence: this test is about what is retrieved, and an escalated conversation
    # would hand every later turn to a person without retrieving at all.
    return make_chat_world(KB, settings_overrides={"answer_threshold": 0.0})


def _retrieved(world: ChatWorld, customer: Customer, turn: dict[str, Any]) -> list[dict[str, Any]]:
    """What the bot retrieved for ``turn``, best first, as the agent sees it."""
    messages = world.read_as_agent(customer.id)["messages"]
    bot = next(m for m in messages if m["id"] == turn["message_id"])
    return list(bot["retrieved"])


def test_the_follow_up_alone_leads_to_the_fan(followup_world: ChatWorld) -> None:
    """The control: without a conversation, the words of the follow-up match the fan's section best."""
    world = followup_world
    customer = world.start()
    turn = world.ask(customer, FOLLOW_UP)
    top = _retrieved(world, customer, turn)[0]
    assert top["document_id"] == world.documents["breezemax-fan.md"]


def test_third_turn_that_names_nothing_retrieves_the_subject_of_the_conversation(followup_world: ChatWorld) -> None:
    world = followup_world
    customer = world.start()
    first = world.ask(customer, "How do I switch on my AquaPure 300 water filter?")
    assert _retrieved(world, customer, first)[0]["document_id"] == world.documents["aquapure-300.md"]
    second = world.ask(customer, "How often should I change the cartridge?")
    assert second["decision"] != "escalate", second
    third = world.ask(customer, FOLLOW_UP)
    retrieved = _retrieved(world, customer, third)
    top = retrieved[0]
    assert top["document_id"] == world.documents["aquapure-300.md"], retrieved[:3]
    assert FILTER_OFF in top["snippet"], top
    assert third["decision"] == "answer"
    assert world.cited_files(third)[:1] == ["aquapure-300.md"]


# One manual, two features: the follow-up's words match the night mode's section, written the way the
# follow-up is phrased; after a question about the ionizer, "it" is the ionizer.
IONIZER_OFF = "hold the ION key for three seconds until the green dot goes out"
PURIFIER = (
    "zephyr-x200.md",
    markdown(
        "Zephyr X200 air purifier",
        "## Ionizer\n\nThe ionizer charges dust so the filter catches more of it. To switch the ionizer on, press "
        f"the ION key once; a green dot lights up. To stop the ionizer, {IONIZER_OFF}.",
        "## Night mode\n\nNight mode dims the display and slows the fan. To turn it on, press the moon key. To turn "
        "it off again, press the moon key a second time.",
        "## Filter\n\nReplace the Zephyr X200 filter every twelve months.",
    ),
)


@pytest.fixture(scope="module")
def purifier_world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world([PURIFIER], settings_overrides={"answer_threshold": 0.0})


def test_a_follow_up_about_it_stays_with_the_feature_the_customer_asked_about(purifier_world: ChatWorld) -> None:
    world = purifier_world
    alone = world.start()
    control = _retrieved(world, alone, world.ask(alone, FOLLOW_UP))[0]
    assert "moon key" in control["snippet"], control  # the words alone lead to night mode

    customer = world.start()
    world.ask(customer, "How do I switch on the ionizer?")
    follow_up = world.ask(customer, FOLLOW_UP)
    retrieved = _retrieved(world, customer, follow_up)
    assert "ionizer" in retrieved[0]["snippet"] and "moon" not in retrieved[0]["snippet"], retrieved[:3]
    assert IONIZER_OFF in follow_up["answer"], follow_up


# A robot vacuum's app, schedule, FAQ and warranty pages, as a trial customer's knowledge base had them.
ROBOT: list[KbFile] = [
    (
        "app-wifi.md",
        markdown(
            "App and Wi-Fi pairing",
            "The R5 connects to the Dustly app over 2.4 GHz Wi-Fi only. 5 GHz networks are not supported.",
            "## Pairing the R5 with the app",
            "1. Install the Dustly app from the App Store or Google Play and sign in.\n"
            "2. Hold the Clean and Home buttons together for 5 seconds until the Wi-Fi light blinks blue.\n"
            "3. In the app, tap Add device > Dustly R5 and enter your 2.4 GHz Wi-Fi password.\n"
            "4. Wait until the Wi-Fi light turns solid blue. Pairing takes up to 1 minute.",
            "## Resetting Wi-Fi",
            "If pairing fails, hold the Home button for 10 seconds to reset Wi-Fi, then pair again.",
        ),
    ),
    (
        "cleaning-schedule.md",
        markdown(
            "Cleaning schedule",
            "You can set a cleaning schedule in the Dustly app.",
            "## Setting a schedule",
            "Open the Dustly app, tap your R5, then tap Schedule > Add. Choose the days and the start time, then "
            "tap Save.\nYou can add up to 7 schedules, one per day of the week.",
            "## Turning the schedule off",
            "To turn a schedule off, open Schedule and switch the toggle next to it to grey. To delete it, swipe "
            "it left and tap Delete.",
        ),
    ),
    (
        "faq.md",
        markdown(
            "FAQ",
            "## How often should I empty the dust bin?",
            "Empty the dust bin after every run. Wash the filter with water once a month and let it dry for 24 hours.",
            "## How often should I replace the side brushes?",
            "Replace the side brushes every 6 months and the main brush every 12 months.",
            "## Can the R5 climb over thresholds?",
            "Yes, the R5 climbs thresholds up to 2 cm high.",
            "## How long does the battery last?",
            "A full battery cleans for up to 120 minutes in Standard mode and 80 minutes in Max mode.",
        ),
    ),
    (
        "warranty.md",
        markdown(
            "Warranty",
            "The Dustly R5 has a 2-year limited warranty from the date of purchase. The battery is covered for 1 year.",
            "## How to make a claim",
            "Email warranty@dustly.example with your order number, the R5's serial number and a short description "
            "of the fault.",
        ),
    ),
]


@pytest.fixture(scope="module")
def robot_world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world(ROBOT)


def test_a_question_on_another_subject_leaves_the_conversations_document(robot_world: ChatWorld) -> None:
    """The other side of carrying the subject: after two turns about the app, "How long does the battery
    last?" asks about something else; the conversation's document vote made it the app's pairing section."""
    world = robot_world
    customer = world.start()
    world.ask(customer, "How do I pair my Dustly R5 with the app?")
    world.ask(customer, "How do I set a cleaning schedule?")
    moved_on = world.ask(customer, "How long does the battery last?")
    assert moved_on["decision"] == "answer", moved_on
    assert world.cited_files(moved_on)[0] == "faq.md"
    assert "120 minutes" in moved_on["answer"]


def test_that_in_a_follow_up_is_what_the_last_answer_was_about(robot_world: ChatWorld) -> None:
    """After the schedule's answer, "how do I turn that off?" means the schedule. The joined conversation query
    is mostly the first answer's pairing steps, and the rewrite carried "set" (the previous turn's verb, taken
    for a topic): the bot gave the pairing steps again. The latest answer's document now votes, and the rewrite
    carries what the previous turn was about, not what it did to it."""
    world = robot_world
    customer = world.start()
    world.ask(customer, "How do I pair my Dustly R5 with the app?")
    schedule = world.ask(customer, "How do I set a cleaning schedule?")
    assert world.cited_files(schedule)[0] == "cleaning-schedule.md", schedule
    off = world.ask(customer, "and how do I turn that off?")
    assert off["decision"] == "answer", off
    assert world.cited_files(off)[0] == "cleaning-schedule.md", off
    assert "switch the toggle next to it to grey" in off["answer"], off
    assert "Hold the Clean and Home buttons" not in off["answer"], off
