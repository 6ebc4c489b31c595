"""The three pages (customer widget, agent inbox, ops console), the login page and the embed script, served
from ``web/`` as static files: no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(include_in_schema=False)

_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


def _page(name: str, *, frameable: bool = False) -> FileResponse:
    """A page with a strict CSP (no inline script, so stored text can never run). Only the widget may be
    framed by other sites (that is how the embed works); the staff pages may not (clickjacking)."""
    headers = {
        "Content-Security-Policy": _CSP.format(ancestors="*" if frameable else "'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ops")


@router.get("/widget")
def widget() -> FileResponse:
    return _page("widget.html", frameable=True)


@router.get("/agent")
def agent() -> FileResponse:
    return _page("agent.html")


@router.get("/ops")
def ops() -> FileResponse:
    return _page("ops.html")


@router.get("/login")
def login() -> FileResponse:
    return _page("login.html")


@router.get("/widget.js")
def embed_script() -> FileResponse:
    """``<script src="https://support.example.com/widget.js" data-key="bk_widget_..."></script>``"""
    return FileResponse(
        WEB_DIR / "static" / "embed.js",
        media_type="text/javascript; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"},
    )
