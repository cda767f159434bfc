"""Clients of the HTTP service: OAuth 2.0 client credentials kept in the book, access tokens that expire.

A client's secret is shown once, when the client is created, and stored only as a salted scrypt hash (slow on
purpose: it guards the secret if the book leaks). Access tokens are 32 random bytes, stored as their SHA-256 (fast:
it runs on every request, and a random token needs no salt or stretching). Each client acts as one actor, whose
permissions ``Books`` enforces.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from subledger.errors import Conflict, InvalidInput
from subledger.models.base import is_identifier
from subledger.operations.base import KEY_WIDTH
from subledger.storage import schema

#: scrypt's cost (N=2**14, r=8, p=1: about 16 MiB and a few tens of milliseconds per check).
_N, _R, _P = 2**14, 8, 1
DEFAULT_TTL = 3600


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    actor: str


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int


def create_client(engine: Engine, name: str, actor: str) -> NewClient:
    """A new client named ``name`` acting as ``actor``; the returned secret is the only copy there will be."""
    if not is_identifier(name):
        raise InvalidInput("a client id is letters, digits, '-', '_' and '.'", document=name, field="clientId")
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        c = schema.api_clients.c
        if conn.execute(select(c.client_id).where(c.client_id == name)).first() is not None:
            raise Conflict(f"api client {name} exists already", document=name, field="clientId")
        conn.execute(
            insert(schema.api_clients).values(
                client_id=name, actor=actor, secret_hash=hash_secret(secret), created_at=int(time.time())
            )
        )
    return NewClient(name, secret, actor)


def issue_token(engine: Engine, client_id: str, client_secret: str, ttl: int = DEFAULT_TTL) -> Token | None:
    """A new access token for valid credentials, or ``None`` (unknown client and wrong secret alike)."""
    if not is_identifier(client_id):
        return None  # names no client (``create_client``); a NUL in it could not even be looked up on PostgreSQL
    with engine.connect() as conn:
        c = schema.api_clients.c
        stored = conn.execute(select(c.secret_hash).where(c.client_id == client_id)).scalar()
    if stored is None or not secret_matches(client_secret, stored):
        return None
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    with engine.begin() as conn:
        t = schema.api_tokens.c
        # Expired tokens of this client go when it gets a new one: the table holds live tokens only.
        conn.execute(delete(schema.api_tokens).where(t.client_id == client_id, t.expires_at <= now))
        conn.execute(
            insert(schema.api_tokens).values(token_hash=token_hash(token), client_id=client_id, expires_at=now + ttl)
        )
    return Token(token, ttl)


@dataclass(frozen=True)
class Caller:
    client_id: str
    actor: str


def is_client(engine: Engine, client_id: str) -> bool:
    """Whether ``client_id`` names a client of the book (only such an id is recorded with a refusal: a secret
    pasted into ``client_id`` never is)."""
    c = schema.api_clients.c
    with engine.connect() as conn:
        return conn.execute(select(c.client_id).where(c.client_id == client_id)).first() is not None


def caller_of(engine: Engine, token: str) -> Caller | None:
    """The client a live access token was issued to and the actor it acts as, or ``None`` (unknown or expired)."""
    t, c = schema.api_tokens.c, schema.api_clients.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.client_id, c.actor)
            .join(schema.api_clients, c.client_id == t.client_id)
            .where(t.token_hash == token_hash(token), t.expires_at > int(time.time()))
        ).first()
    return None if row is None else Caller(row.client_id, row.actor)


def scoped_key(client_id: str, key: str) -> str:
    """A client's idempotency key as the books record it: each client's keys are its own, so two integrators that
    both pick ``1`` neither refuse nor replay each other's requests. A key too long to fit beside the client id
    is recorded by its SHA-256."""
    scoped = f"{client_id}:{key}"
    if len(scoped) <= KEY_WIDTH:
        return scoped
    return f"{client_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
