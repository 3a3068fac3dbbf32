"""``mbcnav serve`` flags for the CDS Hooks service: open only when asked, never by accident; bad flags named."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mbc_navigator.cds.auth import CdsAuth
from mbc_navigator.cds.options import SECRET_ENV, add_serve_flags, auth_from_args
from mbc_navigator.cli.errors import UsageError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_flags(parser)
    return parser.parse_args(argv)


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    path = tmp_path / "secret"
    path.write_text("s" * 40 + "\n")
    return str(path)


def test_no_flags_means_refuse_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    auth = auth_from_args(parse())
    assert isinstance(auth, CdsAuth) and auth.issuers == {}


def test_open_only_with_the_explicit_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert auth_from_args(parse("--cds-no-auth")) is None


def test_issuer_with_secret_file(secret_file: str) -> None:
    auth = auth_from_args(parse("--cds-issuer", "https://ehr", "--cds-secret-file", secret_file))
    assert auth is not None and auth.issuers["https://ehr"].secret == b"s" * 40


def test_issuer_with_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "e" * 32)
    auth = auth_from_args(parse("--cds-issuer", "https://ehr", "--cds-audience", "https://mbc.example.org"))
    assert auth is not None and auth.audiences == ("https://mbc.example.org",)


def test_issuer_with_jwks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    key = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key]}))
    auth = auth_from_args(parse("--cds-issuer", "https://ehr", "--cds-jwks", str(path)))
    assert auth is not None and auth.issuers["https://ehr"].jwks == str(path)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--cds-no-auth", "--cds-issuer", "https://ehr"], "--cds-no-auth"),
        (["--cds-issuer", "https://ehr"], "--cds-issuer"),
        (["--cds-jwks", "keys.json"], "--cds-issuer"),
        (["--cds-issuer", "https://ehr", "--cds-jwks", "/no/such/file.json"], "--cds-jwks"),
    ],
)
def test_bad_combinations_are_named(argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(UsageError) as err:
        auth_from_args(parse(*argv))
    assert str(err.value).startswith(named)


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("short")
    with pytest.raises(UsageError, match="at least 32"):
        auth_from_args(parse("--cds-issuer", "https://ehr", "--cds-secret-file", str(path)))
