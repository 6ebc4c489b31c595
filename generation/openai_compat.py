"""The ``openai`` backend: any server speaking the OpenAI chat-completions API (vLLM, TGI, Ollama, llama.cpp).

Plain httpx, no SDK. The prompt (:func:`generation.prompting.build_chat_messages`) puts the neutralised
passages in ``<passage number="n">`` blocks and tells the model they are untrusted data and every sentence
must cite [n]. The reply's markers become citations; sentences without support are dropped (see
:mod:`generation.grounding`). Any failure to get a well-formed reply - connection refused, timeout, an HTTP
error, malformed JSON - raises :class:`core.errors.ModelUnavailable` saying which.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, Literal

import httpx

from core.errors import ModelUnavailable
from generation.grounding import StreamingGrounder, question_context, stream_grounded
from generation.guardrails import DEFAULT_MAX_ANSWER_CHARS, EMPTY_ANSWER, answer_pieces, screen_request
from generation.prompting import build_chat_messages
from generation.protocol import Answer, AnswerSentence, GenerationRequest


class OpenAICompatGenerator:
    """Answers through ``POST {base_url}/chat/completions``; ``stream()`` reads the SSE ``stream: true`` reply."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30.0,
        *,
        max_tokens: int = 400,
        temperature: float = 0.0,
        max_sentences: int = 4,
        max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ModelUnavailable(f"openai generator: base URL {base_url!r} is not an http(s) URL")
        if not model:
            raise ModelUnavailable("openai generator: no model name given (BINDESK_OPENAI_MODEL)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_sentences = max_sentences
        self.max_answer_chars = max_answer_chars
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    def warm_up(self) -> None:
        """Open the connection pool. No request is sent: a server that is down is reported per answer."""
        self._http()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout, headers=self._headers)
            return self._client

    def payload(self, request: GenerationRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body sent for ``request``."""
        return {
            "model": self.model,
            "messages": build_chat_messages(request, max_sentences=self.max_sentences),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": stream,
        }

    def generate(self, request: GenerationRequest) -> Answer:
        """The grounded answer, citing ``request``'s passage numbers. Passages that cannot be evidence are screened
        out first (:func:`generation.guardrails.screen_request`); with none left the server is not asked."""
        screened = screen_request(request)
        if not screened.request.passages:
            return EMPTY_ANSWER
        text = self._complete(screened.request)
        grounder = self._grounder(screened.request)
        grounder.feed(text)
        grounder.finish()
        return screened.restore_answer(grounder.answer())

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Plain-text pieces, one per grounded sentence, as soon as the server has sent it."""
        return answer_pieces(self.stream_sentences(request))

    def stream_sentences(self, request: GenerationRequest) -> Iterator[AnswerSentence]:
        """Grounded sentences with citations as soon as the server has sent each one."""
        screened = screen_request(request)
        if not screened.request.passages:
            return
        grounder = self._grounder(screened.request)
        for sentence in stream_grounded(self._deltas(screened.request), grounder):
            yield screened.restore(sentence)

    def _grounder(self, request: GenerationRequest) -> StreamingGrounder:
        return StreamingGrounder(request.passages, max_chars=self.max_answer_chars, context=question_context(request))

    # --- HTTP ------------------------------------------------------------------------------------------

    def _complete(self, request: GenerationRequest) -> str:
        with self._failures():
            response = self._http().post(self.endpoint, json=self.payload(request, stream=False))
            self._raise_for_status(response)
            try:
                body = response.json()
                content = body["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError) as error:
                raise ModelUnavailable(
                    f"the model server at {self.endpoint} answered malformed JSON (no choices[0].message.content): "
                    f"{response.text[:200]!r}"
                ) from error
        return content if isinstance(content, str) else ""

    def _deltas(self, request: GenerationRequest) -> Iterator[str]:
        with (
            self._failures(),
            self._http().stream("POST", self.endpoint, json=self.payload(request, stream=True)) as response,
        ):
            if response.status_code >= 400:
                response.read()
            self._raise_for_status(response)
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                yield self._delta_text(data)

    def _delta_text(self, data: str) -> str:
        try:
            event = json.loads(data)
            if "error" in event:
                raise ModelUnavailable(f"the model server at {self.endpoint} reported an error: {event['error']}")
            choices = event["choices"]
            if not choices:
                return ""  # e.g. a final usage-only chunk
            delta = choices[0].get("delta") or {}
            content = delta.get("content")
            return content if isinstance(content, str) else ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise ModelUnavailable(
                f"the model server at {self.endpoint} sent a malformed stream event: {data[:200]!r}"
            ) from error

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = response.text[:200]
        if status in (401, 403):
            reason = f"rejected the API key (HTTP {status}); check BINDESK_OPENAI_API_KEY"
        elif status == 404:
            reason = f"has no such endpoint or model (HTTP 404) for model {self.model!r}: {detail!r}"
        elif status >= 500:
            reason = f"failed (HTTP {status}): {detail!r}"
        else:
            reason = f"refused the request (HTTP {status}): {detail!r}"
        raise ModelUnavailable(f"the model server at {self.endpoint} {reason}")

    def _failures(self) -> _TranslateFailures:
        return _TranslateFailures(self.endpoint, self.timeout)


class _TranslateFailures:
    """Turns transport errors raised inside the block into ModelUnavailable with a clear reason."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: Any) -> Literal[False]:
        if error is None or isinstance(error, ModelUnavailable) or not isinstance(error, httpx.HTTPError):
            return False
        if isinstance(error, httpx.TimeoutException):
            message = f"the model server at {self.endpoint} did not answer within {self.timeout:g} s"
        elif isinstance(error, httpx.ConnectError):
            message = f"cannot connect to the model server at {self.endpoint} (is it running?): {error}"
        else:
            message = f"talking to the model server at {self.endpoint} failed: {error!r}"
        raise ModelUnavailable(message) from error
