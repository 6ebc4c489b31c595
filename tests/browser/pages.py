"""Steps on the pages, as a person would take them, shared by the browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import Browser, BrowserContext, Dialog, FilePayload, Page, expect

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
ANSWER_TIMEOUT_MS = 60_000


@dataclass
class Watched:
    """A page with everything that must not happen on it recorded: dialogs, script errors."""

    page: Page
    context: BrowserContext
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


def file(name: str, mime_type: str, data: bytes) -> FilePayload:
    """A file as a person would pick it in the browser's file chooser."""
    return {"name": name, "mimeType": mime_type, "buffer": data}


def open_page(browser: Browser, url: str, viewport: dict[str, int]) -> Watched:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    watched = Watched(page, context)

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.goto(url)
    return watched


def open_widget(browser: Browser, base: str, widget_key: str) -> Watched:
    watched = open_page(browser, f"{base}/widget?key={widget_key}", PHONE)
    watched.page.wait_for_selector("body[data-ready]")
    return watched


def sign_in(browser: Browser, base: str, key: str, page_path: str) -> Watched:
    """Sign in at /login with a key and land on ``page_path`` (the login page sends each role to its page)."""
    watched = open_page(browser, f"{base}/login?next={page_path}", LAPTOP)
    page = watched.page
    page.get_by_label("Key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{page_path}")
    page.wait_for_selector("body[data-ready]")
    return watched


def bot_replies(page: Page) -> int:
    """Bot messages on screen, not counting the static greeting."""
    return page.locator(".msg-bot:not(.msg-greeting):not(.msg-typing)").count()


def send(
    page: Page,
    text: str = "",
    *,
    photo: bytes | None = None,
    audio: tuple[str, bytes] | None = None,
    expect_reply: bool = True,
) -> None:
    """Type (and attach), press Send, and wait for the bot's reply to this turn (or, while a person has the
    conversation and the bot stays quiet, for the message to be stored)."""
    before = bot_replies(page)
    if photo is not None:
        page.locator("#photo-input").set_input_files(files=[file("photo.png", "image/png", photo)])
        expect(page.get_by_alt_text("Preview of the photo to send")).to_be_visible()
    if audio is not None:
        name, data = audio
        page.locator("#audio-input").set_input_files(files=[file(name, "audio/wav", data)])
        expect(page.locator(".attachment-audio")).to_be_visible()
    if text:
        page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send message").click()
    if not expect_reply:
        expect(page.locator("[data-pending]")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
        return
    page.wait_for_function(
        "n => document.querySelectorAll('.msg-bot:not(.msg-greeting):not(.msg-typing)').length > n",
        arg=before,
        timeout=ANSWER_TIMEOUT_MS,
    )
    expect(page.locator("[data-pending]")).to_have_count(0)
    # The turn is over once Send is enabled again: by then the page has re-read the conversation's status.
    expect(page.get_by_role("button", name="Send message")).to_be_enabled()


def last_bot(page: Page) -> str:
    return page.locator(".msg-bot:not(.msg-greeting):not(.msg-typing) .msg-text").last.inner_text()


def last_sources(page: Page) -> list[str]:
    return page.locator(".msg-bot:not(.msg-greeting)").last.locator(".source-link").all_inner_texts()


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """Serve one page from another origin on loopback (a customer's own site); yields its URL."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
