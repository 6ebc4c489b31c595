"""The extractive generator on a product manual chunked as the ingest path chunks it: several chunks of one
document, with headings, list items and error-code entries (the questions a trial customer asked of a robot
vacuum's knowledge base)."""

from __future__ import annotations

from generation.extractive import ExtractiveConfig, ExtractiveGenerator
from generation.protocol import GenerationRequest, Passage


def chunk(number: int, document: str, ordinal: int, heading: str, text: str) -> Passage:
    """Passage ``number`` (best first), the ``ordinal``-th chunk of ``document``, titled as its heading's first
    part (the document's own title, as ingest gives it)."""
    return Passage(
        number=number,
        chunk_id=f"{document}-{ordinal}",
        document_id=document,
        source=f"{document}.md",
        title=heading.split(" > ")[0],
        page=None,
        text=text,
        score=1.0 / number,
        heading=heading,
        ordinal=ordinal,
    )


def answer(question: str, passages: list[Passage]) -> str:
    return ExtractiveGenerator().generate(GenerationRequest(question=question, history=[], passages=passages)).text


def test_how_long_is_the_frame_not_a_word_the_answer_must_hold() -> None:
    passages = [
        chunk(
            1,
            "warranty",
            0,
            "Warranty",
            "The Dustly R5 has a 2-year limited warranty from the date of purchase. The battery is covered for 1 year.",
        ),
        chunk(
            2,
            "warranty",
            1,
            "Warranty > What is covered",
            "Defects in materials and workmanship under normal household use. Not covered: wear parts (brushes, "
            "filters, mop pads), damage from liquids, drops or misuse.",
        ),
        chunk(
            3,
            "warranty",
            2,
            "Warranty > How to make a claim",
            "Email warranty@dustly.example with your order number, the R5's serial number (on the label under the "
            "dust bin) and a short description of the fault. We answer within 2 business days.",
        ),
    ]
    # Before: nothing says "long", so no sentence was citable and a 0.89 answerable turn escalated.
    assert answer("How long is the warranty?", passages).startswith("The Dustly R5 has a 2-year limited warranty")


def test_a_how_to_question_gets_the_steps_of_its_list_in_order() -> None:
    pairing = "App and Wi-Fi pairing > Pairing the R5 with the app"
    passages = [
        chunk(
            1,
            "app-wifi",
            1,
            pairing,
            "- Install the Dustly app from the App Store or Google Play and sign in.\n"
            "- Hold the Clean and Home buttons together for 5 seconds until the Wi-Fi light blinks blue.",
        ),
        chunk(
            2,
            "app-wifi",
            2,
            pairing,
            "- In the app, tap Add device > Dustly R5 and enter your 2.4 GHz Wi-Fi password.\n"
            "- Wait until the Wi-Fi light turns solid blue. Pairing takes up to 1 minute.",
        ),
        chunk(
            3,
            "app-wifi",
            0,
            "App and Wi-Fi pairing",
            "The R5 connects to the Dustly app over 2.4 GHz Wi-Fi only. 5 GHz networks are not supported.",
        ),
    ]
    text = answer("How do I pair my Dustly R5 with the app?", passages)
    install, hold, tap = (text.find(step) for step in ("Install the Dustly app", "Hold the Clean", "In the app, tap"))
    assert 0 <= install < hold < tap, text  # the step a customer cannot skip is there, in the manual's order


def test_a_code_is_answered_by_its_entry_in_reading_order_without_the_products_other_sentences() -> None:
    codes = "error-codes"
    passages = [
        chunk(
            1,
            codes,
            2,
            "Error codes > E-12: side brush stuck",
            "Hair or string is usually wrapped around it. To fix E-12: switch off the R5, remove the side brush "
            "and cut away hair and string.",
        ),
        chunk(2, codes, 0, "Error codes", "The R5 shows an error code on its display and says it aloud."),
        chunk(3, codes, 1, "Error codes > E-12: side brush stuck", "E-12 means the side brush of the R5 is stuck."),
        chunk(4, "app-wifi", 1, "Pairing", "- Install the Dustly app from the App Store and sign in."),
    ]
    text = answer("My Dustly R5 shows error E-12", passages)
    # The entry's sentences only (the model number R5 is in every sentence, it does not make one about E-12),
    # the meaning before the remedy as the manual has them, though the remedy's chunk ranked first.
    assert text.startswith("E-12 means the side brush of the R5 is stuck."), text
    assert "To fix E-12" in text
    assert "on its display" not in text and "Install" not in text


def test_setting_and_set_are_the_same_word() -> None:
    passages = [
        chunk(1, "schedule", 0, "Cleaning schedule", "You can set a cleaning schedule in the Dustly app."),
        chunk(
            2,
            "schedule",
            1,
            "Cleaning schedule > Setting a schedule",
            "Open the Dustly app, tap your R5, then tap Schedule > Add. Choose the days and the start time, then tap "
            "Save. You can add up to 7 schedules, one per day of the week.",
        ),
        chunk(
            3,
            "schedule",
            2,
            "Cleaning schedule > Turning the schedule off",
            "To turn a schedule off, open Schedule and switch the toggle next to it to grey.",
        ),
    ]
    # The heading "Setting a schedule" says which steps answer; before, only the introduction was quoted.
    assert "tap Schedule > Add" in answer("How do I set a cleaning schedule?", passages)


def test_a_list_of_facts_answers_a_plain_question_with_its_one_item() -> None:
    specs = chunk(
        1,
        "specs",
        0,
        "Specifications",
        "- The battery runs for up to 120 minutes.\n- The dust bin holds 400 ml.\n- The R5 weighs 3.2 kg.",
    )
    assert answer("What is the battery runtime?", [specs]) == "The battery runs for up to 120 minutes."


def test_the_questions_own_words_outweigh_what_the_conversation_adds() -> None:
    """The follow-up "and how do I turn that off?" about the schedule: the focus entities ("Dustly R5",
    "cleaning schedule") say what it is about, "turn ... off" what it asks. With both weighed alike, the setting
    steps (which name the product) were the best sentence and brought their sequel."""
    passages = [
        chunk(
            1,
            "schedule",
            1,
            "Cleaning schedule > Setting a schedule",
            "Open the Dustly app, tap your R5, then tap Schedule > Add. Choose the days and the start time, then tap "
            "Save.\nYou can add up to 7 schedules, one per day of the week.",
        ),
        chunk(2, "schedule", 0, "Cleaning schedule", "You can set a cleaning schedule in the Dustly app."),
        chunk(
            3,
            "schedule",
            2,
            "Cleaning schedule > Turning the schedule off",
            "To turn a schedule off, open Schedule and switch the toggle next to it to grey. To delete it, swipe it "
            "left and tap Delete.",
        ),
    ]
    history = [
        ("customer", "How do I pair my Dustly R5 with the app?"),
        ("customer", "How do I set a cleaning schedule?"),
    ]
    request = GenerationRequest(
        question="and how do I turn that off?",
        history=history,
        passages=passages,
        focus_entities=["Dustly R5", "cleaning schedule"],
    )
    text = ExtractiveGenerator().generate(request).text
    assert "switch the toggle next to it to grey" in text, text
    assert "Choose the days" not in text, text


GUEST_INTRO = "A guest network gives visitors internet access without access to your own devices or files."


def test_an_introduction_brings_its_list_from_the_first_step() -> None:
    """The steps under "Set up the guest network" follow the introduction whole, from step 1, though step 2
    matches the question best."""
    passages = [
        chunk(1, "guest", 0, "Guest Network", GUEST_INTRO),
        chunk(
            2,
            "guest",
            1,
            "Guest Network > Set up the guest network",
            "1. Open the Meshly app and tap Settings.\n2. Switch Guest network on for your visitors.\n"
            "3. Enter a guest network name and a password.\n4. Tap Save.",
        ),
    ]
    text = answer("how do i set up a guest network for visitors", passages)
    steps = ["Open the Meshly app", "Switch Guest network on", "Enter a guest network name", "Tap Save."]
    positions = [text.find(step) for step in steps]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text


def test_how_often_is_answered_by_a_frequency_before_the_words_it_shares() -> None:
    """The follow-up's own words are a frame; the conversation's ("brew unit", and what the last answer said:
    "dry", "back") made the steps outscore "Clean it once a week." (generation.answer_types)."""
    steps = chunk(
        1,
        "faq",
        3,
        "FAQ > How do I clean the brew unit?",
        "Rinse the brew unit under lukewarm running water, let it dry and push it back in. "
        "Push the brew unit back in until it clicks and let it dry. Dry the back of the brew unit with a cloth.",
    )
    when = chunk(2, "faq", 4, "FAQ > How do I clean the brew unit?", "Clean it once a week.")
    request = GenerationRequest(
        question="And how often should I do that?",
        history=[("customer", "How do I clean the brew unit?"), ("bot", "Rinse the brew unit ...")],
        passages=[steps, when],
        focus_entities=["brew unit", "dry", "back"],
    )
    text = ExtractiveGenerator().generate(request).text
    assert "Clean it once a week." in text, text


def test_a_sentence_that_introduces_a_list_is_not_quoted_without_it() -> None:
    passages = [
        chunk(1, "warranty", 0, "Warranty", "Every Brewa Duo 2 comes with a 2-year warranty from the day you buy it."),
        chunk(2, "warranty", 4, "Warranty > Exclusions", "The warranty does not cover:"),
    ]
    text = answer("How long is the warranty?", passages)
    assert "2-year warranty" in text and "does not cover" not in text, text


def test_a_list_does_not_run_into_the_next_section_s_list() -> None:
    """Across a chunk edge a list continues only under the same heading: the factory reset's last steps were put
    before "Add a satellite"'s first."""
    steps = "4. Hold the reset pin for ten seconds.\n5. Release the reset pin."
    reset = chunk(2, "app", 4, "App > Factory reset", steps)
    add = chunk(1, "app", 5, "App > Add a satellite", "1. Open the app on your phone.\n2. Tap the plus sign.")
    text = answer("How do I add a satellite with the app on my phone?", [add, reset])
    assert "Open the app" in text and "reset pin" not in text, text


SETUP_STEPS = [
    "Turn off your modem and unplug it for 30 seconds.",
    "Connect the yellow Ethernet cable from your modem to the WAN port on the main router.",
    "Plug the main router into power and turn the modem back on.",
    "Wait about two minutes until the LED on the main router pulses blue.",
    "Download the Meshly app from the App Store or Google Play and create a Meshly account.",
    'In the app, tap "Add system" and scan the QR code on the bottom of the main router.',
    "Choose a network name (SSID) and a password of at least 8 characters.",
    "When the LED turns solid blue, your network is online.",
]
SETUP_INTRO = (
    "This guide sets up your Meshly M3 mesh Wi-Fi system for the first time. The box contains one main router, "
    "one satellite node, a power adapter per unit and an Ethernet cable."
)
FAQ_MENTION = (
    "Does the Meshly M3 work without the app?\n"
    "The first setup needs the app. After that, a basic web page is available at http://meshly.local."
)


def quick_start(first_number: int) -> list[Passage]:
    """The quick start's introduction and its eight setup steps, in three chunks as ingest cut them."""
    numbered = [f"{n}. {step}" for n, step in enumerate(SETUP_STEPS, start=1)]
    texts = [SETUP_INTRO, "\n".join(numbered[:3]), "\n".join(numbered[3:6]), "\n".join(numbered[6:])]
    headings = ["Meshly M3 Quick Start", *["Meshly M3 Quick Start > Setup steps"] * 3]
    return [
        chunk(first_number + ordinal, "quick-start", ordinal, heading, text)
        for ordinal, (heading, text) in enumerate(zip(headings, texts, strict=True))
    ]


def assert_every_setup_step_in_order(text: str) -> None:
    positions = [text.find(step) for step in SETUP_STEPS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text


def test_a_how_to_is_answered_by_the_steps_its_heading_names_over_a_sentence_that_mentions_it() -> None:
    """ "The first setup needs the app." names "setup" itself and its FAQ question names the product: when its
    passage ranked first it was the answer, and the steps under "Setup steps" were left out (one clean-clone run
    in three, as the shared vector store's BM25 statistics moved the ranks)."""
    faq = chunk(1, "faq", 7, "Meshly M3 FAQ > Does the Meshly M3 work without the app?", FAQ_MENTION)
    text = answer("How do I set up my Meshly M3?", [faq, *quick_start(2)])
    assert_every_setup_step_in_order(text)
    assert "first setup needs the app" not in text, text


def test_an_introduction_answering_first_leaves_its_list_every_step() -> None:
    """The introduction and its sequel took two of the eight sentences a list may have: steps 7 and 8 were cut."""
    intro, *steps = quick_start(1)
    request = GenerationRequest(question="How do I set up my Meshly M3?", history=[], passages=[intro, *steps])
    generator = ExtractiveGenerator(config=ExtractiveConfig(steps_header_boost=1.0, steps_boost=1.0))
    text = generator.generate(request).text
    assert text.startswith("This guide sets up your Meshly M3"), text
    assert_every_setup_step_in_order(text)


def test_a_named_code_is_answered_by_its_table_row_not_a_sentence_listing_it_among_others() -> None:
    """ "E-06" alone was answered "Support first tries ... Many errors, such as E-04, E-06 and E-07, can be fixed
    at home.": the sentence naming the code best, though it only mentions it."""
    claim = chunk(
        1,
        "warranty",
        3,
        "Warranty > How to make a warranty claim",
        "1. Contact Brewa support with your serial number.\n"
        "2. Support first tries to solve the problem with you remotely. Many errors, such as E-04, E-06 and E-07, "
        "can be fixed at home.",
    )
    table = chunk(
        2,
        "errors",
        1,
        "Error codes > Error code table",
        "E-05 | Bean hopper empty | Refill the bean hopper and press OK.\n"
        "E-06 | Grinder blocked | Switch the machine off, empty the hopper and remove any stone with the brush.",
    )
    text = answer("E-06", [claim, table])
    assert text.startswith("E-06 | Grinder blocked | Switch the machine off"), text
    assert "Many errors" not in text, text


E06_ROW = "E-06 | Grinder blocked | Switch the machine off, empty the hopper and remove any stone with the brush."


def test_a_list_under_a_heading_naming_the_code_among_others_is_not_its_fix() -> None:
    """A warranty section "Repairs for E-06 and E-09" lists what to send in: its items are steps under a heading
    that names the code, but not the code's fix; the table row answers "How do I fix E-06?"."""
    table = chunk(1, "errors", 1, "Error codes > Error code table", E06_ROW)
    repairs = chunk(
        2,
        "warranty",
        4,
        "Warranty > Repairs for E-06 and E-09",
        "- Send the machine in its original box.\n- Include a copy of the receipt.\n- Write your address on it.",
    )
    for question in ("How do I fix E-06?", "my machine shows E-06, what do I do?"):
        text = answer(question, [table, repairs])
        assert text.startswith(E06_ROW[:40]) and "original box" not in text, text


def test_an_entry_is_a_line_that_opens_with_the_code_alone() -> None:
    """ "E-06 and E-07 can usually be fixed at home" opens with the code but lists another: not E-06's entry."""
    manual = chunk(
        1,
        "manual",
        2,
        "Manual > Grinder",
        "When the display shows E-06, a stone or oily beans block the grinder. Empty the hopper and brush it out.",
    )
    support = chunk(2, "support", 1, "Support > Before you call", "E-06 and E-07 can usually be fixed at home.")
    text = answer("E-06", [manual, support])
    assert text.startswith("When the display shows E-06"), text


def test_a_step_list_is_not_boosted_by_a_word_its_document_title_shares() -> None:
    """Titles that differ leave no common subject, so "Meshly M3" was a word the Quick Start's full heading
    path shared with the question: its setup steps outscored the one sentence that answers."""
    night = chunk(
        1, "lights", 2, "Lights > Night mode", "Open the app, tap Settings and switch Night mode on to dim the lights."
    )
    text = answer("How do I turn off the lights on my Meshly M3 at night?", [night, *quick_start(2)])
    assert text.startswith("Open the app, tap Settings and switch Night mode on"), text
    assert "Connect the yellow Ethernet cable" not in text, text  # the setup list is not brought in
