"""Customer-facing conversation routes: start, send a turn, read, follow live, fetch media, hand off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api.auth import Principal, authenticate, bearer_secret
from api.deps import RuntimeDep, SessionDep, SettingsDep, WidgetPrincipal
from api.ratelimit import enforce
from chat.conversations import author_names, create_conversation, escalate, for_customer, for_staff, messages_of
from chat.events import conversation_channel, inbox_channel
from chat.inputs import TurnInput
from chat.turn import take_turn
from chat.views import conversation_view
from core.errors import InvalidInput, NotFound, Unauthenticated
from core.models import Conversation, Document, Message, Role

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

SSE_KEEPALIVE_SECONDS = 15.0


def _open(request: Request, session: Session, conversation_id: str) -> tuple[Conversation, bool]:
    """The conversation for this caller: its customer token, or a staff key/cookie of its workspace.
    Returns (conversation, is_staff). Tokens may come as ``?token=`` for EventSource and media links."""
    token = bearer_secret(request) or request.query_params.get("token")
    if token and token.startswith("bkc_"):
        return for_customer(session, conversation_id, token), False
    try:
        principal: Principal = authenticate(request, session)
    except Unauthenticated:
        raise NotFound(f"no conversation {conversation_id!r}") from None
    if principal.role not in (Role.AGENT, Role.OPS):
        raise NotFound(f"no conversation {conversation_id!r}")
    return for_staff(session, principal.workspace_id, conversation_id), True


@router.post("", status_code=201)
def start(request: Request, principal: WidgetPrincipal, session: SessionDep, settings: SettingsDep) -> dict[str, str]:
    """A new conversation; the token in the answer is the customer's only credential for it. 429 past
    ``Settings.rate_limit_conversations_per_hour`` from one address."""
    enforce(request, "conversation", principal.workspace_id, settings.rate_limit_conversations_per_hour, 3600)
    conversation, token = create_conversation(session, principal.workspace_id)
    return {"id": conversation.id, "token": token}


@router.post("/{conversation_id}/messages")
async def send_message(
    conversation_id: str, request: Request, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """One customer turn: multipart ``text``, ``image``, ``audio`` (any of them). Answers the object of
    ``bindesk ask --json``, plus ``message_id`` (the bot's message, for feedback)."""
    token = bearer_secret(request)
    conversation = for_customer(session, conversation_id, token)
    # Counted before the body is read or any model runs.
    enforce(request, "turn", conversation.workspace_id, settings.rate_limit_turns_per_minute, 60)
    turn = await _read_turn(request, settings.max_message_chars)
    events = request.app.state.events
    result = await asyncio.to_thread(take_turn, runtime, session, conversation, turn, events=events)
    return result


async def _read_turn(request: Request, max_chars: int) -> TurnInput:
    """The turn's text, photo and voice note from a JSON or multipart body. The text may come as a form field
    or as a file part (``curl -F text=@question.txt``); past ``max_chars`` (4 bytes a character at most) it is
    ``message_too_long`` however it came, as ``chat.inputs.normalise`` says of a shorter overlong one."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise InvalidInput("the body is not valid JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
            raise InvalidInput('send {"text": "..."} or multipart fields text, image, audio')
        return TurnInput(text=body.get("text", ""))
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InvalidInput('send multipart/form-data with fields text, image, audio, or JSON {"text": "..."}')
    max_bytes = 4 * max_chars + 1024
    try:
        form = await request.form(max_files=3, max_fields=5, max_part_size=max_bytes)
    except HTTPException as exc:  # Starlette's multipart errors, e.g. a text field past max_part_size
        if "maximum size" in str(exc.detail):  # Starlette's words for a field past max_part_size
            message = f"a text field is over the limit ({max_chars} characters)"
            raise InvalidInput(message, code="message_too_long") from exc
        raise InvalidInput(f"the form could not be read: {exc.detail}") from exc
    try:
        text = form.get("text")
        if isinstance(text, UploadFile):
            text = await _text_part(text, max_bytes, max_chars)
        image, audio = form.get("image"), form.get("audio")
        return TurnInput(
            text=text or "",
            image=(await image.read()) or None if isinstance(image, UploadFile) else None,
            audio=(await audio.read()) or None if isinstance(audio, UploadFile) else None,
        )
    finally:
        await form.close()


async def _text_part(part: UploadFile, max_bytes: int, max_chars: int) -> str:
    """A text sent as a file part: UTF-8 (a byte-order mark dropped), at most ``max_bytes``, else 422."""
    data = await part.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput(f"the message is over {max_chars} characters", code="message_too_long")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the text part is not UTF-8 text") from exc


@router.get("/{conversation_id}")
def read(conversation_id: str, request: Request, session: SessionDep) -> dict[str, Any]:
    conversation, staff = _open(request, session, conversation_id)
    messages = messages_of(session, conversation)
    return conversation_view(conversation, messages, staff=staff, authors=author_names(session, messages))


@router.post("/{conversation_id}/handoff")
def handoff(conversation_id: str, request: Request, session: SessionDep) -> dict[str, Any]:
    """The customer pressed "talk to a person": the conversation goes to the inbox."""
    conversation = for_customer(session, conversation_id, bearer_secret(request))
    changed = escalate(conversation, "customer_asked_for_human")
    note = Message(
        conversation_id=conversation.id,
        workspace_id=conversation.workspace_id,
        role="system",
        text="The customer asked to talk to a person." if changed else "A person will be with you shortly.",
    )
    session.add(note)
    session.commit()
    events = request.app.state.events
    if changed:
        events.publish(
            inbox_channel(conversation.workspace_id), {"type": "escalated", "conversation_id": conversation.id}
        )
    events.publish(conversation_channel(conversation.id), {"type": "status", "status": conversation.status.value})
    return {
        "id": conversation.id,
        "status": conversation.status.value,
        "escalation_reason": conversation.escalation_reason,
    }


@router.get("/{conversation_id}/messages/{message_id}/{media}")
def media(
    conversation_id: str, message_id: str, media: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The photo or voice note of a message, for its customer and for staff of the workspace."""
    conversation, _ = _open(request, session, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id or media not in ("image", "audio"):
        raise NotFound("no such media")
    key = message.image_blob if media == "image" else message.audio_blob
    media_type = message.image_media_type if media == "image" else message.audio_media_type
    if not key:
        raise NotFound("no such media")
    return Response(
        runtime.blobs.read(key),
        media_type=media_type or "application/octet-stream",
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


_INLINE_TEXT = {"text/markdown", "text/plain", "text/csv", "application/json", "application/x-ndjson"}


@router.get("/{conversation_id}/sources/{document_id}")
def source(
    conversation_id: str, document_id: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The original file of a document the assistant cited in this conversation (customer token or staff).

    Only cited documents are served to customers: the rest of the knowledge base stays private. HTML is
    served in a CSP sandbox (no script, no same-origin access); text formats as plain text.
    """
    conversation, staff = _open(request, session, conversation_id)
    cited = any(
        c.get("document_id") == document_id
        for m in messages_of(session, conversation)
        if m.role == "bot"
        for c in (m.citations or [])
    )
    doc = session.get(Document, document_id)
    if doc is None or doc.workspace_id != conversation.workspace_id or not (cited or staff):
        raise NotFound("no such source")
    media_type = "text/plain; charset=utf-8" if doc.media_type in _INLINE_TEXT else doc.media_type
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(doc.filename)}",
        "Cache-Control": "private, max-age=300",
    }
    return Response(runtime.blobs.read(doc.blob_key), media_type=media_type, headers=headers)


@router.get("/{conversation_id}/events")
async def follow(conversation_id: str, request: Request, session: SessionDep) -> StreamingResponse:
    """Server-sent events for one conversation: ``message`` (bot answer or agent reply) and ``status``."""
    conversation, _ = _open(request, session, conversation_id)
    # The session ends when this returns (SessionDep is scoped to the route), not when the stream does.
    return sse_response(request, conversation_channel(conversation.id))


def sse_response(request: Request, channel: str) -> StreamingResponse:
    events = request.app.state.events

    async def stream() -> AsyncIterator[bytes]:
        yield b": connected\n\n"
        subscription = events.subscribe(channel)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def pump() -> None:
            async for event in subscription:
                await queue.put(event)

        task = asyncio.create_task(pump())
        try:
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=SSE_KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                payload = json.dumps(event, ensure_ascii=False)
                yield f"event: {event.get('type', 'message')}\ndata: {payload}\n\n".encode()
        finally:
            task.cancel()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
