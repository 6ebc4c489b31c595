"""Every error Bindesk raises on purpose, in one tree, with its HTTP status and stable ``code``.

The API turns any :class:`BindeskError` into ``{"error": {"code": ..., "message": ...}}`` with
``status``; the CLI prints the message and exits non-zero; an ingest task records ``code: message``
on the document row. Anything else that escapes is a bug and answers 500 ``internal_error``.

    BindeskError (500 internal_error)
    ├── InvalidInput (422 invalid_input)
    │   ├── EmptyMessage (422 empty_message)
    │   └── InvalidMedia (422 invalid_media)  -- an image that is not one, a WAV that lies, ...
    │       └── MediaTooLong (422 media_too_long)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── Unauthenticated (401 unauthenticated)
    ├── Forbidden (403 forbidden)
    │   └── CsrfFailed (403 csrf_failed)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    ├── TooManyRequests (429 too_many_requests) -- a rate limit; ``retry_after`` seconds (Retry-After header)
    ├── ServiceUnavailable (503 service_unavailable)
    ├── DocumentRejected (422 document_rejected) -- parse-time failure; the document ends ``failed``
    │   ├── CorruptDocument (corrupt_document)
    │   ├── ArchiveBomb (archive_bomb)
    │   ├── DecompressionBomb (decompression_bomb)
    │   └── EmptyDocument (empty_document)
    └── ModelUnavailable (503 model_unavailable) -- weights missing, wrong checkpoint, server down
        └── CheckpointMismatch (checkpoint_mismatch)
"""

from __future__ import annotations


class BindeskError(Exception):
    """Base of every deliberate error. ``code`` is stable and machine-readable; ``message`` is for people."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidInput(BindeskError):
    status = 422
    code = "invalid_input"


class EmptyMessage(InvalidInput):
    code = "empty_message"


class InvalidMedia(InvalidInput):
    code = "invalid_media"


class MediaTooLong(InvalidMedia):
    code = "media_too_long"


class PayloadTooLarge(BindeskError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(BindeskError):
    status = 415
    code = "unsupported_media_type"


class Unauthenticated(BindeskError):
    status = 401
    code = "unauthenticated"


class Forbidden(BindeskError):
    status = 403
    code = "forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class NotFound(BindeskError):
    status = 404
    code = "not_found"


class Conflict(BindeskError):
    status = 409
    code = "conflict"


class TooManyRequests(BindeskError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ServiceUnavailable(BindeskError):
    status = 503
    code = "service_unavailable"


class DocumentRejected(BindeskError):
    """The file was accepted but cannot be indexed; the document ends ``failed`` with this reason."""

    status = 422
    code = "document_rejected"


class CorruptDocument(DocumentRejected):
    code = "corrupt_document"


class ArchiveBomb(DocumentRejected):
    code = "archive_bomb"


class DecompressionBomb(DocumentRejected):
    code = "decompression_bomb"


class EmptyDocument(DocumentRejected):
    code = "empty_document"


class ModelUnavailable(BindeskError):
    status = 503
    code = "model_unavailable"


class CheckpointMismatch(ModelUnavailable):
    code = "checkpoint_mismatch"
