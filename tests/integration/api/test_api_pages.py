"""The pages as served: a strict Content-Security-Policy, no inline script or style anywhere (so stored text
could not run even if it were parsed), every referenced asset present, and no HTML-parsing DOM sinks in
the page scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.integration.api.apiworld import ApiWorld

pytestmark = pytest.mark.integration

WEB = Path(__file__).resolve().parents[3] / "web"
PAGES = ["/widget", "/agent", "/ops", "/login"]
# DOM APIs that parse a string as HTML or code; the pages build nodes and set textContent instead.
SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\(\s*['\"`]"
)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}=...>")
        if tag == "script":
            if not values.get("src"):
                self.inline.append("<script> without src")
            else:
                self.assets.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.assets.append(str(values["href"]))
        if tag == "style":
            self.inline.append("<style>")


def test_pages_have_a_strict_csp_and_no_inline_code(world: ApiWorld) -> None:
    for path in PAGES:
        response = world.client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "connect-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        frame = "frame-ancestors *" if path == "/widget" else "frame-ancestors 'none'"
        assert frame in csp, (path, csp)
        page = _Page()
        page.feed(response.text)
        assert page.inline == [], (path, page.inline)
        for asset in page.assets:
            assert world.client.get(asset).status_code == 200, (path, asset)


def test_page_scripts_import_only_what_exists() -> None:
    for script in (WEB / "static" / "js").glob("*.js"):
        for target in re.findall(r'from\s+"(\./[^"]+)"', script.read_text()):
            assert (script.parent / target).is_file(), (script.name, target)


def test_page_scripts_never_parse_strings_as_html() -> None:
    scripts = [*(WEB / "static" / "js").glob("*.js"), WEB / "static" / "embed.js"]
    assert len(scripts) > 5
    for script in scripts:
        found = SINKS.findall(script.read_text())
        assert not found, (script.name, found)


def test_the_embed_script_is_served_as_javascript(world: ApiWorld) -> None:
    response = world.client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "data-key" in response.text and "/widget?embed=1&key=" in response.text
