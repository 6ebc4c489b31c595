"""``bindesk``: run the platform, ingest files, ask questions, evaluate, manage keys.

``ingest`` and ``ask`` work in-process on the local data directory unless ``--url`` points them at a
running server. Every command exits non-zero on failure with a one-line reason.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import httpx

from core.errors import BindeskError
from core.logging import configure_logging
from core.settings import Settings, get_settings

log = logging.getLogger("bindesk")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging("DEBUG" if getattr(args, "verbose", False) else "INFO")
    try:
        return int(args.handler(args) or 0)
    except BindeskError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except httpx.TransportError as exc:  # --url: no server there, or it stopped answering
        print(f"error: unreachable: {getattr(args, 'url', '')}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bindesk", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="everything on one machine with embedded defaults")
    up.add_argument("--host", default=None)
    up.add_argument("--port", type=int, default=None)
    up.set_defaults(handler=_cmd_up)

    serve = sub.add_parser("serve", help="the API alone")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_cmd_serve)

    worker = sub.add_parser("worker", help="a Celery worker alone")
    worker.add_argument("--concurrency", type=int, default=None)
    worker.set_defaults(handler=_cmd_worker)

    ingest = sub.add_parser("ingest", help="add files or folders to the knowledge base")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--workspace", default="default")
    ingest.add_argument("--wait", action="store_true", help="with --url: wait until every file is indexed or failed")
    _remote_args(ingest)
    ingest.set_defaults(handler=_cmd_ingest)

    reindex = sub.add_parser("reindex", help="index a workspace's documents again (after switching embedders)")
    reindex.add_argument("--workspace", default="default")
    reindex.set_defaults(handler=_cmd_reindex)

    ask = sub.add_parser("ask", help="ask the assistant one question")
    ask.add_argument("text", nargs="?", default="")
    ask.add_argument("--image")
    ask.add_argument("--audio")
    ask.add_argument("--conversation")
    ask.add_argument("--token", help="with --url and --conversation: that conversation's customer token")
    ask.add_argument("--workspace", default="default")
    ask.add_argument("--json", action="store_true")
    _remote_args(ask)
    ask.set_defaults(handler=_cmd_ask)

    ev = sub.add_parser("eval", help="benchmark suites over ../shared/data (or --data PATH)")
    ev.add_argument("suite", help="retrieval | conversation | all")
    ev.add_argument("--data", default=None, help="folder holding the data sets (default ../shared/data)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--quick", action="store_true", help="a small sample of each set, for a smoke run")
    ev.add_argument(
        "--only",
        default="",
        help="comma-separated parts to run (retrieval: emanual,stackfaq,grocery; conversation: "
        "doc2dial,voice,latency,support,mtrag; default all)",
    )
    ev.set_defaults(handler=_cmd_eval)

    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; it is printed once, on the last line")
    create.add_argument("--role", required=True, choices=["ops", "agent", "widget"])
    create.add_argument("--workspace", default="default")
    create.add_argument("--name", default="")
    create.set_defaults(handler=_cmd_keys_create)
    return parser


def _remote_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="a running Bindesk server (default: work in-process)")
    parser.add_argument("--key", default=None, help="API key for --url (default: BINDESK_API_KEY)")


def _settings_with(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "host", None):
        settings.host = args.host
    if getattr(args, "port", None):
        settings.port = args.port
    return settings


def _cmd_keys_create(args: argparse.Namespace) -> int:
    from core.db import migrate, session_scope
    from core.models import Role
    from core.workspaces import create_key

    settings = get_settings()
    migrate(settings)
    with session_scope(settings) as session:
        key, secret = create_key(session, args.workspace, Role(args.role), name=args.name)
        print(f"created {args.role} key {key.id} for workspace {args.workspace}; it is shown once:", file=sys.stderr)
    print(secret)
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from commands.run import run_up

    return run_up(_settings_with(args))


def _cmd_serve(args: argparse.Namespace) -> int:
    from commands.run import run_serve

    return run_serve(_settings_with(args))


def _cmd_worker(args: argparse.Namespace) -> int:
    from commands.run import run_worker

    return run_worker(get_settings(), concurrency=args.concurrency)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from commands.ingest import ingest_local, ingest_remote

    settings = get_settings()
    if args.url:
        return ingest_remote(args.url, _remote_key(args, settings.api_key, "an ops"), args.paths, wait=args.wait)
    return ingest_local(settings, args.workspace, args.paths)


def _remote_key(args: argparse.Namespace, configured: str, role: str) -> str:
    """The key sent with ``--url``: ``--key``, else ``BINDESK_API_KEY``; neither is an error worth a sentence."""
    key = str(args.key or configured).strip()
    if not key:
        raise BindeskError(f"--url needs {role} key: pass --key or set BINDESK_API_KEY", code="invalid_input")
    return key


def _cmd_reindex(args: argparse.Namespace) -> int:
    from commands.ingest import reindex_local

    return reindex_local(get_settings(), args.workspace)


def _cmd_ask(args: argparse.Namespace) -> int:
    from commands.ask import ask_json, ask_local, ask_remote, ask_text

    settings = get_settings()
    if args.url:
        key = "" if args.conversation else _remote_key(args, settings.api_key, "a widget")
        result = ask_remote(args.url, key, args)
    else:
        result = ask_local(settings, args)
    if args.json:
        print(json.dumps(ask_json(result), ensure_ascii=False))
    else:
        print("\n".join(ask_text(result)))
        print(f"conversation: {result['conversation_id']}", file=sys.stderr)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from benchmarks.runner import run_suite

    only = tuple(part.strip() for part in args.only.split(",") if part.strip())
    return run_suite(args.suite, data_dir=args.data, as_json=args.json, quick=args.quick, only=only)


if __name__ == "__main__":
    raise SystemExit(main())
