"""The three pages in a real browser against the real platform (API, worker, vector store, models).

The journeys follow the people: a customer asks by text, photo and voice and gets cited answers; a customer
asks for a person and an agent claims, replies live, and turns the resolution into knowledge that answers
the next customer; ops uploads files and watches them get indexed. Screenshots for the docs are taken here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect

from tests.browser.conftest import SCREENSHOTS, Stack
from tests.browser.pages import (
    ANSWER_TIMEOUT_MS,
    LAPTOP,
    bot_replies,
    file,
    last_bot,
    last_sources,
    open_widget,
    other_site,
    send,
    sign_in,
)
from tests.browser.services import CHROMIUM, CHROMIUM_ARGS
from tests.support.media_fixtures import PDF_FACTS, espeak_available, speech_wav, text_image

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng makes the spoken question")

WARRANTY_QUESTION = "How many years does the warranty cover the heating element?"
ZEPHYR_QUESTION = "How do I pair the Zephyr R2 remote with a second television?"
ZEPHYR_ANSWER = (
    "Hold the MENU and VOLUME DOWN buttons of the Zephyr R2 remote together for five seconds, "
    "then choose the second television from the list on screen."
)


@needs_espeak
def test_customer_gets_cited_answers_to_text_photo_and_voice(
    browser: Browser, stack: Stack, knowledge_base: str
) -> None:
    customer = open_widget(browser, stack.url, stack.keys.widget)
    page = customer.page

    send(page, "How often should I descale the Aurora kettle?")
    assert "four weeks" in last_bot(page)
    assert any(knowledge_base in s and "p. 1" in s for s in last_sources(page)), last_sources(page)
    page.locator(".msg-bot .source-link").last.click()  # a citation opens to the passage it quotes
    expect(page.locator(".msg-bot details[open] .source-snippet").last).to_contain_text("four weeks")

    # A phone photo of the kettle's display, far bigger than needed: the browser shrinks it before upload.
    photo = text_image(["ERROR E7", "AURORA KETTLE"], font_size=150, size=(3000, 1400))
    page.locator("#photo-input").set_input_files(files=[file("display.png", "image/png", photo)])
    expect(page.locator(".attachment-photo")).to_contain_text("resized from 3000×1400")
    page.get_by_role("button", name="Remove photo").click()  # changed their mind once: nothing is sent
    expect(page.locator(".attachment-photo")).to_have_count(0)
    send(page, photo=photo)
    assert "without water" in last_bot(page)
    assert any(knowledge_base in s and "p. 3" in s for s in last_sources(page)), last_sources(page)
    stored = page.locator(".msg-customer .msg-photo").last
    expect(stored).to_have_attribute("src", re.compile(r"^/v1/conversations/.+/image\?token=bkc_"))
    stored_width = stored.evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))"
    )
    assert 0 < stored_width <= 1600

    spoken = speech_wav(WARRANTY_QUESTION)
    send(page, audio=("question.wav", spoken))
    expect(page.locator(".msg-customer .msg-transcript").last).to_contain_text(re.compile("warranty", re.I))
    assert "three years" in last_bot(page)
    assert any(knowledge_base in s and "p. 2" in s for s in last_sources(page)), last_sources(page)

    helpful = page.locator(".msg-bot .rating").first.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".msg-bot .rating-note").first).to_have_text("Thanks for the feedback")
    page.locator("#log").evaluate("log => { log.scrollTop = log.scrollHeight; }")
    page.screenshot(path=str(SCREENSHOTS / "widget.png"))

    page.reload()  # the same conversation continues after a reload
    page.wait_for_selector("body[data-ready]")
    expect(page.locator(".msg-customer")).to_have_count(3)
    assert bot_replies(page) == 3 and "three years" in last_bot(page)
    with stack.api(stack.keys.ops) as ops:
        assert ops.get("/v1/ops/stats", params={"days": 1}).json()["totals"]["thumbs_up"] >= 1
    assert customer.dialogs == [] and customer.errors == []
    customer.close()


@needs_espeak
def test_customer_records_a_voice_note_with_the_microphone(
    playwright: Playwright, stack: Stack, knowledge_base: str, tmp_path: Path
) -> None:
    """MediaRecorder on Chromium's fake microphone, which plays a spoken question from a file."""
    question = tmp_path / "question.wav"
    question.write_bytes(speech_wav(WARRANTY_QUESTION))
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={question}%noloop"]
    )
    try:
        customer = open_widget(browser, stack.url, stack.keys.widget)
        page = customer.page
        page.get_by_role("button", name="Voice note", exact=True).click()
        expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
        page.wait_for_timeout(4500)
        page.get_by_role("button", name="Stop recording").click()
        expect(page.locator(".attachment-audio")).to_contain_text("voice-note.")
        before = bot_replies(page)
        page.get_by_role("button", name="Send message").click()
        page.wait_for_function(
            "n => document.querySelectorAll('.msg-bot:not(.msg-greeting):not(.msg-typing)').length > n",
            arg=before,
            timeout=ANSWER_TIMEOUT_MS,
        )
        heard = page.locator(".msg-customer .msg-transcript").last
        expect(heard).to_contain_text(re.compile("warranty", re.I))
        assert "three years" in last_bot(page), heard.inner_text()
        assert customer.errors == []
    finally:
        browser.close()


@needs_espeak
def test_handoff_live_reply_and_the_resolution_answers_the_next_customer(
    browser: Browser, stack: Stack, knowledge_base: str
) -> None:
    agent = sign_in(browser, stack.url, stack.keys.agent, "/agent")
    agent.page.evaluate("window.__notReloaded = true")
    customer = open_widget(browser, stack.url, stack.keys.widget)
    page = customer.page
    page.evaluate("window.__notReloaded = true")

    label = text_image(["ZEPHYR R2", "REMOTE CONTROL"], font_size=80)
    voice = speech_wav("It is the Zephyr remote from the living room.")
    send(page, ZEPHYR_QUESTION, photo=label, audio=("voice.wav", voice))
    handoff = page.locator("#handoff")
    if handoff.is_enabled():  # unless the bot has already handed over on its own
        expect(handoff).to_have_text("Talk to a person")
        handoff.click()
    expect(page.locator("#chat-status")).to_contain_text("Waiting for a person")

    # The escalation reaches the agent's open inbox live.
    inbox = agent.page
    item = inbox.locator(".item").first
    expect(item).to_be_visible(timeout=20_000)
    assert inbox.evaluate("window.__notReloaded") is True
    item.click()
    transcript = inbox.locator(".transcript")
    expect(transcript.locator(".t-customer").first).to_contain_text(ZEPHYR_QUESTION)
    photo = transcript.locator(".t-photo img").first
    expect(photo).to_be_visible()
    assert (
        photo.evaluate(
            "img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))"
        )
        > 0
    )
    expect(transcript.locator(".t-ocr").first).to_contain_text("ZEPHYR")
    expect(transcript.locator(".t-voice audio").first).to_have_attribute("src", re.compile(r"/audio$"))
    expect(transcript.locator(".t-transcript").first).to_contain_text(re.compile("remote", re.I))
    bot = transcript.locator(".t-bot").first
    bot.locator(".t-retrieval summary").click()
    expect(bot.locator(".t-facts")).to_contain_text("Query")
    expect(bot.locator(".t-facts")).to_contain_text("Evidence")  # the decision's detail ("answerability ...")

    bot.get_by_label("Reason for the rating").fill("Did not know the Zephyr remote")
    bot.get_by_role("button", name="Rate this answer bad").click()
    expect(bot.locator(".t-rate-note")).to_have_text("Rating saved")

    inbox.get_by_role("button", name="Claim", exact=True).click()
    expect(inbox.get_by_role("button", name="Claimed by you", exact=True)).to_be_disabled()
    inbox.get_by_label("Reply to the customer").fill(ZEPHYR_ANSWER)
    inbox.get_by_role("button", name="Send reply").click()
    expect(transcript.locator(".t-agent")).to_contain_text("MENU and VOLUME DOWN")

    # The customer sees the reply arrive, without reloading.
    expect(page.locator(".msg-agent .msg-text")).to_have_text(ZEPHYR_ANSWER, timeout=20_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("#chat-status")).to_contain_text("chatting with a person")
    expect(inbox.locator(".toast")).to_have_count(0, timeout=15_000)  # notices fade after a few seconds
    inbox.locator(".transcript-scroll").evaluate("pane => { pane.scrollTop = 0; }")
    inbox.screenshot(path=str(SCREENSHOTS / "agent.png"))

    inbox.get_by_role("button", name="Save as knowledge").click()
    dialog = inbox.get_by_role("dialog", name="Save as knowledge")
    expect(dialog.get_by_label("Question")).to_have_value(ZEPHYR_QUESTION)
    expect(dialog.get_by_label("Answer")).to_have_value(ZEPHYR_ANSWER)
    dialog.get_by_role("button", name="Save to knowledge base").click()
    expect(inbox.locator(".toast", has_text="resolution-")).to_be_visible()
    inbox.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#chat-status")).to_contain_text("Resolved", timeout=20_000)

    conversation_id = page.evaluate("JSON.parse(Object.values(sessionStorage).find(v => v.includes('token'))).id")
    stack.wait_indexed(f"resolution-{conversation_id}.json")
    next_customer = open_widget(browser, stack.url, stack.keys.widget)
    send(next_customer.page, ZEPHYR_QUESTION)
    assert "MENU and VOLUME DOWN" in last_bot(next_customer.page)
    assert any(f"resolution-{conversation_id}.json" in s for s in last_sources(next_customer.page))
    for watched in (agent, customer, next_customer):
        assert watched.dialogs == [] and watched.errors == []
        watched.close()


MARKUP = "<img src=x onerror=alert(1)>"
# What a drag from the desktop delivers: a DataTransfer holding File objects.
DATA_TRANSFER = """files => {
  const transfer = new DataTransfer();
  for (const f of files) transfer.items.add(new File([f.text], f.name, {type: f.type}));
  return transfer;
}"""


def test_stored_markup_stays_text_on_every_page(browser: Browser, stack: Stack, knowledge_base: str) -> None:
    customer = open_widget(browser, stack.url, stack.keys.widget)
    page = customer.page
    page.get_by_role("button", name="Talk to a person").click()
    expect(page.locator("#chat-status")).to_contain_text("Waiting for a person")
    send(page, MARKUP, expect_reply=False)
    expect(page.locator(".msg-customer .msg-text").last).to_have_text(MARKUP)

    agent = sign_in(browser, stack.url, stack.keys.agent, "/agent")
    agent.page.locator(".item", has_text=MARKUP).first.click()
    expect(agent.page.locator(".t-customer .t-text").last).to_have_text(MARKUP)

    ops = sign_in(browser, stack.url, stack.keys.ops, "/ops")
    document = f"{MARKUP}.txt"
    ops.page.locator("#file-input").set_input_files(
        files=[file(document, "text/plain", f"The string {MARKUP} is shown as text.".encode())]
    )
    row = ops.page.locator("#docs tr", has_text=MARKUP)
    expect(row.locator(".doc-filename")).to_have_text(document)
    expect(row.locator(".doc-status")).to_have_text("Indexed", timeout=120_000)
    ops.page.get_by_label("Question").fill("which string is shown as text")
    ops.page.get_by_role("button", name="Search", exact=True).click()
    expect(ops.page.locator(".hit-snippet", has_text=MARKUP).first).to_be_visible()

    for watched in (customer, agent, ops):
        assert watched.page.locator("img").count() == 0, "markup became an element"
        assert watched.dialogs == [] and watched.errors == []
        watched.close()


def test_ops_uploads_replaces_deletes_and_searches(browser: Browser, stack: Stack, knowledge_base: str) -> None:
    ops = sign_in(browser, stack.url, stack.keys.ops, "/ops")
    page = ops.page
    files = [
        {
            "name": "echo-headphones.md",
            "type": "text/markdown",
            "text": "# Echo Headphones\n\n## Battery\n\nA full charge lasts twelve hours.",
        },
        {
            "name": "shop-faq.csv",
            "type": "text/csv",
            "text": "question,answer\nCan I pay with PayPal?,Yes at checkout.\n",
        },
    ]
    # Drag and drop two files at once onto the drop zone.
    transfer = page.evaluate_handle(DATA_TRANSFER, files)
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    for name in ("echo-headphones.md", "shop-faq.csv"):
        expect(page.locator("#docs tr", has_text=name).locator(".doc-status")).to_have_text("Indexed", timeout=120_000)

    # A new version of the headphones page replaces the old one (same document, version 2).
    headphones = page.locator("#docs tr", has_text="echo-headphones.md")
    headphones.get_by_role("button", name="Upload a new version of echo-headphones.md").click()
    page.locator("#replace-input").set_input_files(
        files=[
            file("echo-v2.md", "text/markdown", b"# Echo Headphones\n\n## Battery\n\nA full charge lasts twenty hours.")
        ]
    )
    expect(headphones.locator(".doc-sub")).to_contain_text("version 2", timeout=30_000)
    expect(headphones.locator(".doc-status")).to_have_text("Indexed", timeout=120_000)
    expect(page.locator("#docs tr", has_text="echo-headphones.md")).to_have_count(1)

    faq = page.locator("#docs tr", has_text="shop-faq.csv")
    faq.get_by_role("button", name="Delete shop-faq.csv").click()
    faq.get_by_role("button", name="Press again to delete shop-faq.csv").click()
    expect(page.locator("#docs tr", has_text="shop-faq.csv")).to_have_count(0)

    page.get_by_label("Question").fill("how long does a full charge of the headphones last")
    page.get_by_role("button", name="Search", exact=True).click()
    first = page.locator(".hit").first
    expect(first.locator(".hit-source")).to_contain_text("echo-headphones.md")
    expect(first.locator(".hit-snippet")).to_contain_text("twenty hours")

    page.get_by_role("button", name="Add photo").click()
    page.locator("#search-photo-input").set_input_files(
        files=[file("screen.png", "image/png", text_image(["ERROR E7"], font_size=90))]
    )
    page.get_by_label("Question").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".results-ocr")).to_contain_text("E7", timeout=60_000)
    expect(page.locator(".hit-snippet", has_text=PDF_FACTS["error"]).first).to_be_visible()

    # The figures on the page are the ones the API reports.
    with stack.api(stack.keys.ops) as client:
        totals = client.get("/v1/ops/stats", params={"days": 14}).json()["totals"]
    page.get_by_label("Period", exact=True).select_option("14")
    expect(page.locator(".kpi", has_text="Conversations").locator(".kpi-value")).to_have_text(
        str(totals["conversations"])
    )
    expect(page.locator("#chart-volume svg")).to_have_attribute(
        "aria-label", re.compile(f"{totals['conversations']} in all")
    )
    page.locator("#search-results").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "ops.png"))
    assert ops.dialogs == [] and ops.errors == []
    ops.close()


def test_the_one_line_embed_opens_the_chat_on_another_site(browser: Browser, stack: Stack) -> None:
    host_page = (
        "<!doctype html><html><head><title>Example shop</title></head><body><h1>Example shop</h1>"
        f'<script src="{stack.url}/widget.js" data-key="{stack.keys.widget}" async></script></body></html>'
    )
    with other_site(host_page) as shop:  # another origin (another port), as a customer's shop would be
        context = browser.new_context(viewport=LAPTOP)  # type: ignore[arg-type]
        page = context.new_page()
        page.goto(shop)
        launcher = page.get_by_role("button", name="Chat with support")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        expect(page.locator("iframe")).to_have_count(0)  # nothing loads before a customer wants to chat
        launcher.click()
        frame = page.frame_locator("#bindesk-chat-frame")
        expect(frame.locator("body[data-ready]")).to_have_count(1, timeout=20_000)
        expect(frame.get_by_label("Your message")).to_be_visible()
        frame.get_by_role("button", name="Close chat").click()
        expect(page.locator("#bindesk-chat-frame")).to_be_hidden()
        expect(page.get_by_role("button", name="Chat with support")).to_have_attribute("aria-expanded", "false")
        context.close()


# Who has focus, as a screen reader would name it.
FOCUSED = """() => {
  const el = document.activeElement;
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  return (el.getAttribute("aria-label") || label || el.textContent || el.tagName).trim();
}"""
# A visible focus indicator: an outline or ring on the focused control or on the box it sits in.
FOCUS_RING = """() => {
  for (let el = document.activeElement, depth = 0; el && depth < 2; el = el.parentElement, depth++) {
    const style = getComputedStyle(el);
    if (style.outlineStyle !== "none" || style.boxShadow !== "none") return true;
  }
  return false;
}"""


def test_the_widget_works_from_the_keyboard(browser: Browser, stack: Stack) -> None:
    customer = open_widget(browser, stack.url, stack.keys.widget)
    page = customer.page
    order = []
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate(FOCUSED))
        assert page.evaluate(FOCUS_RING), f"no visible focus on {order[-1]}"
    assert order == [
        "Talk to a person",
        "Conversation",
        "Your message",
        "Send message",
        "Photo",
        "Voice note",
        "Audio file",
    ]
    page.get_by_label("Your message").focus()
    page.keyboard.press("Enter")  # nothing typed or attached: the widget says what is missing
    expect(page.get_by_role("alert")).to_have_text("Type a message, or attach a photo or a voice note.")
    assert customer.errors == []
    customer.close()
