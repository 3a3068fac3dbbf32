"""Command-line flags of ``mbcnav serve`` for the CDS Hooks service: who may call it, with which key."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mbc_navigator.cli.errors import UsageError

if TYPE_CHECKING:
    from mbc_navigator.cds.auth import CdsAuth

SECRET_ENV = "MBCNAV_CDS_SECRET"
CDS_ARGS_ENV = "MBCNAV_CDS_ARGS"  # the serve command's CDS flags as JSON, for worker processes
MIN_SECRET = 32


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "CDS Hooks",
        "who may call /cds-services: a trusted CDS client (its iss) and its key. Without these the CDS endpoints "
        "refuse every request (401), unless --cds-no-auth is given for local use.",
    )
    group.add_argument("--cds-issuer", metavar="ISS", help="the iss of the trusted CDS client (the record system)")
    group.add_argument(
        "--cds-secret-file",
        metavar="FILE",
        help=f"file holding the HS256 secret shared with the client (at least {MIN_SECRET} bytes; or env {SECRET_ENV})",
    )
    group.add_argument("--cds-jwks", metavar="FILE|URL", help="the client's JSON Web Key Set (ES384 / RS384 keys)")
    group.add_argument(
        "--cds-audience",
        action="append",
        metavar="URL",
        help="public base URL of this server if it differs from what it sees (behind a proxy); repeatable",
    )
    group.add_argument(
        "--cds-no-auth",
        action="store_true",
        help="accept CDS requests without a token: for local use only, never on a network",
    )


def _secret(args: argparse.Namespace) -> bytes | None:
    if args.cds_secret_file:
        try:
            secret = Path(args.cds_secret_file).read_bytes().strip()
        except OSError as exc:
            raise UsageError(f"--cds-secret-file: {args.cds_secret_file!r} cannot be read: {exc}") from None
    elif os.environ.get(SECRET_ENV):
        secret = os.environ[SECRET_ENV].encode()
    else:
        return None
    if len(secret) < MIN_SECRET:
        raise UsageError(f"--cds-secret-file: the secret is {len(secret)} bytes; use at least {MIN_SECRET}")
    return secret


def auth_from_args(args: argparse.Namespace) -> CdsAuth | None:
    """None only with ``--cds-no-auth`` (open, local use); otherwise a ``CdsAuth``, refusing all if unconfigured."""
    from mbc_navigator.cds.auth import CdsAuth, Issuer, load_jwks  # JWT libraries: only when serving

    secret = _secret(args)
    configured = args.cds_issuer or secret or args.cds_jwks
    if args.cds_no_auth:
        if configured:
            raise UsageError("--cds-no-auth: cannot be combined with --cds-issuer, a secret or --cds-jwks")
        return None
    if not configured:
        return CdsAuth()
    if not args.cds_issuer:
        raise UsageError("--cds-issuer: needed with a secret or --cds-jwks (the iss of the trusted client)")
    if not (secret or args.cds_jwks):
        raise UsageError(f"--cds-issuer: needs a key: --cds-secret-file FILE (or env {SECRET_ENV}) or --cds-jwks")
    jwks = args.cds_jwks
    if jwks and not jwks.startswith(("http://", "https://")):
        try:
            load_jwks(jwks)
        except ValueError as exc:
            raise UsageError(f"--cds-jwks: {exc}") from None
    issuer = Issuer(args.cds_issuer, secret, jwks)
    return CdsAuth({issuer.iss: issuer}, tuple(args.cds_audience or ()))
