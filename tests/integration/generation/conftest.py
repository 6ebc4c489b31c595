"""A small fake OpenAI-compatible server on loopback: a real HTTP server in a thread.

It records every request body, checks nothing itself (the tests do), and answers with whatever the test's
``reply`` function returns, either as one JSON completion or, for ``"stream": true``, as server-sent events
(one ``data:`` event per few characters, then ``data: [DONE]``). ``behaviour`` switches it into failure
modes: a 5xx, malformed JSON, a malformed stream event, or a reply slower than the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Reply = Callable[[dict[str, Any]], str]


@dataclass
class FakeModelServer:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    reply: Reply = lambda body: "OK [1]."
    behaviour: str = "normal"  # normal | http_500 | malformed_json | malformed_event | slow | http_401
    chunk_chars: int = 4


def _handler(server_state: FakeModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server_state.requests.append(body)
            server_state.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path != "/v1/chat/completions":
                return self._send(404, "application/json", b'{"error": {"message": "no such route"}}')
            behaviour = server_state.behaviour
            if behaviour == "http_500":
                return self._send(500, "application/json", b'{"error": {"message": "CUDA out of memory"}}')
            if behaviour == "http_401":
                return self._send(401, "application/json", b'{"error": {"message": "bad key"}}')
            if behaviour == "malformed_json":
                return self._send(200, "application/json", b'{"choices": [{"mess')
            if behaviour == "slow":
                time.sleep(2.0)
            content = server_state.reply(body)
            if body.get("stream"):
                return self._stream(content)
            completion = {
                "id": "cmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
            }
            self._send(200, "application/json", json.dumps(completion).encode())

        def _stream(self, content: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            step = server_state.chunk_chars
            for start in range(0, len(content), step):
                chunk = {"choices": [{"index": 0, "delta": {"content": content[start : start + step]}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            if server_state.behaviour == "malformed_event":
                self.wfile.write(b"data: {not json\n\n")
            self.wfile.write(b": keep-alive comment\n\ndata: [DONE]\n\n")

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def fake_model_server() -> Iterator[FakeModelServer]:
    state = FakeModelServer(base_url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)
