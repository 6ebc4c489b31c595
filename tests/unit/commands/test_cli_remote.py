"""``bindesk ask``/``ingest`` with ``--url``: a missing key or an unreachable server is one clear line, not a
traceback."""

from __future__ import annotations

import socket

import pytest

import cli
from core.settings import get_settings


@pytest.fixture
def no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BINDESK_API_KEY", raising=False)
    get_settings.cache_clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.usefixtures("no_configured_key")
@pytest.mark.parametrize(("command", "role"), [(["ask", "hi"], "a widget"), (["ingest", "manual.md"], "an ops")])
def test_url_without_a_key_says_which_key_it_needs(
    command: list[str], role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*command, "--url", f"http://127.0.0.1:{_closed_port()}"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: invalid_input: --url needs {role} key: pass --key or set BINDESK_API_KEY"


def test_an_unreachable_server_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert cli.main(["ask", "hi", "--url", url, "--key", "bk_widget_x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: unreachable: {url}: ")
    assert "Traceback" not in err
