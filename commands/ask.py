"""``bindesk ask``: one turn, in-process on the local data directory or against a running server.

``--json`` prints exactly the object DESIGN.md gives (the API's answer carries a few more keys, such as the
bot message's id for feedback; they are dropped here).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx

from core.db import migrate, session_scope
from core.errors import BindeskError, NotFound
from core.settings import Settings
from kb.embedded import vector_service

ASK_JSON_KEYS = (
    "conversation_id",
    "answer",
    "escalated",
    "escalation_reason",
    "confidence",
    "citations",
    "transcript",
    "ocr_text",
    "entities",
)
CITATION_KEYS = ("document_id", "source", "title", "chunk_id", "page", "score", "snippet")


def ask_json(result: dict[str, Any]) -> dict[str, Any]:
    """The public ``ask --json`` shape of a turn result (:func:`ask_local` / :func:`ask_remote`)."""
    out = {key: result.get(key) for key in ASK_JSON_KEYS}
    out["citations"] = [{k: c.get(k) for k in CITATION_KEYS} for c in result.get("citations") or []]
    out["entities"] = [{"type": e["type"], "value": e["value"]} for e in result.get("entities") or []]
    return out


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        raise BindeskError(f"{path}: no such file", code="not_found")
    return file.read_bytes()


def ask_local(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from chat.conversations import create_conversation, for_staff
    from chat.inputs import TurnInput
    from chat.turn import take_turn
    from kb.runtime import Runtime

    turn = TurnInput(text=args.text or "", image=_read(args.image), audio=_read(args.audio))
    migrate(settings)
    runtime = Runtime(settings)
    with vector_service(settings), session_scope(settings) as session:
        if args.conversation:
            conversation = for_staff(session, args.workspace, args.conversation)
        else:
            conversation, _ = create_conversation(session, args.workspace)
            session.commit()
        return take_turn(runtime, session, conversation, turn)


def ask_remote(url: str, key: str, args: argparse.Namespace) -> dict[str, Any]:
    files: dict[str, tuple[str, bytes]] = {}
    for field, path in (("image", args.image), ("audio", args.audio)):
        data = _read(path)
        if data is not None:
            files[field] = (Path(path).name, data)
    with httpx.Client(base_url=url.rstrip("/"), timeout=120) as client:
        if args.conversation:
            if not args.token:
                raise BindeskError("--conversation with --url needs that conversation's --token", code="invalid_input")
            conversation_id, token = args.conversation, args.token
        else:
            started = client.post("/v1/conversations", headers={"Authorization": f"Bearer {key}"})
            _check(started)
            conversation_id, token = started.json()["id"], started.json()["token"]
        response = client.post(
            f"/v1/conversations/{conversation_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
            data={"text": args.text or ""},
            files=files or None,
        )
        _check(response)
        return dict(response.json())


def _check(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
    except Exception:
        raise BindeskError(f"HTTP {response.status_code}", code="http_error") from None
    if response.status_code == 404:
        raise NotFound(error["message"])
    raise BindeskError(error["message"], code=error["code"])


def ask_text(result: dict[str, Any]) -> list[str]:
    """A turn result as lines for a person: the answer and its sources, or what the bot said instead (its
    clarifying question, or the hand-over notice) and why."""
    if result.get("answer"):
        lines = [str(result["answer"])]
        for n, citation in enumerate(result.get("citations") or [], start=1):
            page = f", page {citation['page']}" if citation.get("page") else ""
            lines.append(f"  [{n}] {citation['source']}{page}: {citation['title']}")
        return lines
    reply = str(result.get("reply") or "")
    if result.get("escalated"):
        return [line for line in (reply, f"(handed to a person: {result.get('escalation_reason')})") if line]
    return [line for line in (reply, f"({result.get('decision') or 'no answer'})") if line]
