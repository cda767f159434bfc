"""Actors and their permissions.

Permissions are the reference product's. The book's administrator, ``admin``, holds every permission; other actors
are defined in a TOML file the administrator edits (``SUBLEDGER_ACTORS``, default ``actors.toml`` in the working
directory)::

    [actors.clerk]
    permissions = ["Reverse Invoice"]
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from subledger.errors import PermissionDenied, Problem, Problems

Permission = Literal[
    "Enhanced Write-off",
    "Reverse Credit Memo",
    "Reverse Invoice",
    "Manage Close Process",
    "Reopen Accounting Period",
    "Transfer to Accounting",
    "Unapply Payment",
    "Refund Credit Memo",
]
ALL_PERMISSIONS: frozenset[str] = frozenset(get_args(Permission))
ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    name: str
    permissions: frozenset[str]

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission, *, document: str | None = None) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"actor {self.name!r} lacks the {permission} permission", document=document)


class _ActorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permissions: list[Permission] = []


class _ActorsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actors: dict[str, _ActorSpec] = {}


def actors_file() -> Path:
    return Path(os.environ.get("SUBLEDGER_ACTORS", "actors.toml"))


def actor_name(name: str | None) -> str:
    """Who runs the command: the name given, else ``SUBLEDGER_ACTOR``, else the administrator."""
    return name or os.environ.get("SUBLEDGER_ACTOR") or ADMIN


def resolve_actor(name: str | None, path: Path | None = None) -> Actor:
    name = actor_name(name)
    if name == ADMIN:
        return Actor(ADMIN, ALL_PERMISSIONS)
    path = path or actors_file()
    if not path.exists():
        raise PermissionDenied(f"unknown actor {name!r}: no actors file at {path}")
    try:
        spec = _ActorsFile.model_validate(tomllib.loads(path.read_text()))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise Problems([Problem(str(path), None, f"invalid actors file: {exc}")]) from None
    if name not in spec.actors:
        raise PermissionDenied(f"unknown actor {name!r} (not in {path})")
    return Actor(name, frozenset(spec.actors[name].permissions))
