"""Closing the loop: an agent's resolution becomes a knowledge-base FAQ entry that answers the next customer."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from core.blobs import BlobStore
from core.errors import InvalidInput
from core.models import Conversation
from kb.documents import Accepted, Upload, accept_uploads


def save_resolution(
    session: Session,
    blobs: BlobStore,
    conversation: Conversation,
    question: str,
    answer: str,
    title: str,
    *,
    reviewer: str,
    max_bytes: int,
) -> Accepted:
    """Store the reviewed question/answer pair as ``resolution-<conversation>.json`` (one FAQ entry) in the
    conversation's workspace and queue it for indexing. Saving again for the same conversation replaces it."""
    question, answer = question.strip(), answer.strip()
    if not question or not answer:
        raise InvalidInput("both the question and the answer are needed")
    entry = {
        "question": question,
        "answer": answer,
        "title": title.strip() or question[:120],
        "source_conversation": conversation.id,
        "reviewed_by": reviewer,
    }
    data = json.dumps([entry], ensure_ascii=False, indent=2).encode()
    filename = f"resolution-{conversation.id}.json"
    return accept_uploads(
        session, blobs, conversation.workspace_id, [Upload(filename, data)], max_bytes=max_bytes, origin="resolution"
    )
