"""Actors and their permissions, held by the book itself.

Permissions are the reference product's, plus two that guard the book itself: Manage Actors (grant and revoke
permissions, ``operations.actors``) and Set Up Books (run ``init`` again on an existing book: it edits the chart,
the calendar and the reason codes every operation relies on). They are rows of the book (``actors``,
``actor_permissions``), changed only by an actor holding Manage Actors, each change an audited operation; no file
or environment variable widens them. The first ``init`` of an empty book makes the actor running it (``admin``
unless named) its administrator, holding every permission. A permission that a later version adds is held by no
one in an existing book until an actor holding Manage Actors grants it (the administrator can grant it to itself).

Who runs a command is the name it is given (``--actor`` or ``SUBLEDGER_ACTOR``), else ``admin``: the command line
cannot authenticate a local user (whoever can write the database file can do anything to it anyway), so these
permissions keep honest people inside their role; authentication belongs to an interface that can do it, such
as an HTTP service that maps its authenticated clients to actors. An empty name is no one and is refused.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from subledger.errors import PermissionDenied, Problem, Problems
from subledger.models.errors import validation_problems

Permission = Literal[
    "Enhanced Write-off",
    "Reverse Credit Memo",
    "Reverse Invoice",
    "Manage Close Process",
    "Reopen Accounting Period",
    "Transfer to Accounting",
    "Unapply Payment",
    "Refund Credit Memo",
    "Manage Actors",
    "Set Up Books",
    "Recover Write-off",
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


def actor_name(name: str | None) -> str:
    """Who runs the command: the name given, else ``SUBLEDGER_ACTOR``, else the administrator. A name given empty
    stays empty (``require_name`` refuses it): it must not fall through to the administrator."""
    if name is None:
        name = os.environ.get("SUBLEDGER_ACTOR")
    return ADMIN if name is None else name


def require_name(name: str) -> str:
    if not name.strip():
        raise PermissionDenied("an actor name is required: an empty name is no one")
    return name


class _ActorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permissions: list[Permission] = []


class _ActorsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actors: dict[str, _ActorSpec] = {}


def read_actors_file(path: Path) -> dict[str, frozenset[str]]:
    """The actors of a TOML file (the format books used before permissions moved into them)::

    [actors.clerk]
    permissions = ["Reverse Invoice"]
    """
    try:
        spec = _ActorsFile.model_validate(tomllib.loads(path.read_bytes().decode("utf-8")))
    except IsADirectoryError:
        raise Problems([Problem(str(path), None, "the actors file is a directory: give a TOML file")]) from None
    except OSError as exc:
        raise Problems([Problem(str(path), None, f"cannot read the actors file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise Problems([Problem(str(path), None, "the actors file is not UTF-8 text: save it as UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise Problems([Problem(str(path), None, f"invalid actors file: {exc}")]) from None
    except ValidationError as exc:
        # Each problem named by its key, one line each (pydantic's own text ran over lines, with a web address).
        raise Problems(validation_problems(exc, None, document=str(path))) from None
    return {name: frozenset(s.permissions) for name, s in spec.actors.items()}
