"""``mbcnav serve``: the web app (pages, JSON API) on an ASGI server, with no outside services."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import socket
import sys

from mbc_navigator.cds.options import CDS_ARGS_ENV, add_serve_flags, auth_from_args
from mbc_navigator.cli.errors import EXIT_OK, UsageError
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.names import KNOWLEDGE_ENV


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: dict[str, argparse.ArgumentParser],
    kb: KnowledgeBase | None,
) -> None:
    p = sub.add_parser("serve", help="start the web app: patient and clinician pages, JSON API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument("--no-access-log", action="store_true", help="do not log requests (method, path, status, time)")
    add_serve_flags(p)


def _check_free(host: str, port: int) -> None:
    """Say plainly when the address cannot be used, before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"--host/--port: cannot listen on {host}:{port}: {exc.strerror}; choose another") from None


def run(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    import uvicorn

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a port; allowed: 0 to 65535")
    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers: {args.workers}; allowed: 1 to 64")
    _check_free(args.host, args.port)
    auth = auth_from_args(args)  # bad CDS flags stop here, before the server starts
    if args.knowledge:
        os.environ[KNOWLEDGE_ENV] = args.knowledge  # for worker processes, which load it themselves
    cds_flags = {k: v for k, v in vars(args).items() if k.startswith("cds_")}
    os.environ[CDS_ARGS_ENV] = json.dumps(cds_flags)  # each worker process builds the same CDS check
    access = logging.getLogger("mbc_navigator.access")
    access.setLevel(logging.WARNING if args.no_access_log else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access.addHandler(handler)
    print(f"mbcnav: serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    common = {"host": args.host, "port": args.port, "access_log": False, "log_level": "warning"}
    if args.workers > 1:
        uvicorn.run("mbc_navigator.web.app:create_app_from_env", factory=True, workers=args.workers, **common)
    else:
        from mbc_navigator.web.app import create_app

        app = create_app(kb, auth or "open")
        gc.freeze()  # what lives as long as the process stays out of garbage collections (steadier latency)
        uvicorn.run(app, **common)
    return EXIT_OK
