"""CDS Hooks 2.0 client authentication: the Bearer JWT a CDS client signs and sends with each request.

Checked as the specification says: the issuer (``iss``) must be a trusted client, the signature must verify with
that client's key (an HS256 shared secret, or its JSON Web Key Set: ES384 / RS384), ``aud`` must be the URL of the
endpoint called, ``exp`` must not have passed and be no more than five minutes ahead, and each ``jti`` is
accepted once. A ``CdsAuth`` without trusted issuers refuses every request: the endpoints are never open by
accident.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

JWKS_ALGORITHMS = ["ES384", "RS384"]
MAX_LIFETIME = 300
LEEWAY = 60


class AuthError(Exception):
    """A request that is not authorised; the message says why (never echoing the token)."""


@dataclass(frozen=True)
class Issuer:
    """A trusted CDS client: its ``iss`` and its key (a shared HS256 secret, or a JWKS file path or URL)."""

    iss: str
    secret: bytes | None = None
    jwks: str | None = None


@dataclass
class CdsAuth:
    """The trusted issuers, the extra audiences accepted (the public base URL behind a proxy) and seen ``jti``s."""

    issuers: dict[str, Issuer] = field(default_factory=dict)
    audiences: tuple[str, ...] = ()
    _seen: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _keysets: dict[str, Any] = field(default_factory=dict, repr=False)

    def check(self, header: str | None, url: str, path: str) -> dict[str, Any]:
        """The verified claims of the request's token; ``AuthError`` when it may not call ``url``."""
        if not self.issuers:
            raise AuthError(
                "no trusted CDS client is configured: start the server with --cds-issuer and a key "
                "(--cds-secret-file or --cds-jwks), or with --cds-no-auth for local use only"
            )
        if not header or not header.lower().startswith("bearer "):
            raise AuthError("an Authorization header with a Bearer JWT is required")
        token = header[7:].strip()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not a JWT: {exc}") from None
        issuer = self.issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthError("the token's issuer (iss) is not a trusted CDS client")
        key, algorithms = self._key(issuer, token, str(alg))
        audiences = [url, *(a.rstrip("/") + path for a in self.audiences)]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audiences,
                issuer=issuer.iss,
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        now = time.time()
        if float(claims["exp"]) > now + MAX_LIFETIME + LEEWAY:
            raise AuthError("the token's exp is more than five minutes ahead")
        self._once(str(claims["jti"]), float(claims["exp"]), now)
        return claims

    def _key(self, issuer: Issuer, token: str, alg: str) -> tuple[Any, list[str]]:
        if alg == "HS256":
            if issuer.secret is None:
                raise AuthError("HS256 is not accepted from this issuer")
            return issuer.secret, ["HS256"]
        if issuer.jwks is None or alg not in JWKS_ALGORITHMS:
            raise AuthError(f"the algorithm {alg!r} is not accepted from this issuer")
        try:
            if issuer.jwks.startswith(("http://", "https://")):
                if issuer.jwks not in self._keysets:  # one client per URL: it caches the keys it fetched
                    self._keysets[issuer.jwks] = jwt.PyJWKClient(issuer.jwks, timeout=10)
                return self._keysets[issuer.jwks].get_signing_key_from_jwt(token).key, [alg]
            keyset = self._keysets.get(issuer.jwks) or load_jwks(issuer.jwks)
            self._keysets[issuer.jwks] = keyset
            kid = jwt.get_unverified_header(token).get("kid")
            for k in keyset.keys:
                if kid is None or k.key_id == kid:
                    return k.key, [alg]
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            raise AuthError(f"the issuer's keys cannot be used: {exc}") from None
        raise AuthError("no key of this issuer matches the token's kid")

    def _once(self, jti: str, exp: float, now: float) -> None:
        with self._lock:
            for old in [j for j, e in self._seen.items() if e + LEEWAY < now]:
                del self._seen[old]
            if jti in self._seen:
                raise AuthError("the token was already used (jti seen before)")
            self._seen[jti] = exp


def load_jwks(path: str) -> jwt.PyJWKSet:
    """A JSON Web Key Set from a file; ``ValueError`` if it is not one."""
    try:
        return jwt.PyJWKSet.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, jwt.PyJWTError) as exc:
        raise ValueError(f"{path!r} is not a readable JSON Web Key Set: {exc}") from None
