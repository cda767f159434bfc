"""The book's actors: who they are (``read_actors``, ``resolve_actor``), and granting and revoking permissions,
each change an operation of its own by an actor holding Manage Actors.

The rules: an actor name is not empty; only known permissions are granted; a grant to a new name adds the actor;
a revoke names an actor the book has; and the book always keeps an actor holding Manage Actors, so that no change
can leave it with nobody able to change it again. ``set_actors`` makes the listed actors hold exactly the listed
permissions (the import of an actors file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, insert, select

from subledger.context import Context
from subledger.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from subledger.models.base import OutputModel
from subledger.permissions import ALL_PERMISSIONS, Actor, Permission, actor_name, require_name
from subledger.storage.schema import actor_permissions, actors

MANAGE: Permission = "Manage Actors"
#: The longest actor name: a grant's operation is recorded under the actor's name, a document number's column.
NAME_LENGTH = 64


def read_actors(conn: Connection) -> dict[str, frozenset[str]]:
    """Every actor of the book and the permissions it holds."""
    held: dict[str, set[str]] = {name: set() for name in conn.execute(select(actors.c.name)).scalars()}
    for actor, permission in conn.execute(select(actor_permissions.c.actor, actor_permissions.c.permission)):
        held[actor].add(permission)
    return {name: frozenset(p) for name, p in sorted(held.items())}


def resolve_actor(conn: Connection, name: str | None) -> Actor:
    """The actor ``name`` (see ``actor_name``) as the book knows it; an unknown or empty name is refused."""
    name = require_name(actor_name(name))
    known = conn.execute(select(actors.c.name).where(actors.c.name == name)).first()
    if known is None:
        raise PermissionDenied(f"unknown actor {name!r} (see `subledger actor list`)")
    held = conn.execute(select(actor_permissions.c.permission).where(actor_permissions.c.actor == name)).scalars()
    return Actor(name, frozenset(held) & ALL_PERMISSIONS)


class ActorView(OutputModel):
    name: str
    permissions: list[str]


class ActorsResult(OutputModel):
    actors: list[ActorView]


def views(held: Mapping[str, Iterable[str]]) -> list[ActorView]:
    return [ActorView(name=name, permissions=sorted(p)) for name, p in sorted(held.items())]


def _known(names: Iterable[str], name: str) -> list[str]:
    unknown = sorted(set(names) - ALL_PERMISSIONS)
    if unknown:
        raise RuleViolation(
            f"unknown permission {unknown[0]!r} (one of: {', '.join(sorted(ALL_PERMISSIONS))})",
            document=name,
            field="permissions",
        )
    return sorted(set(names))


def valid_name(name: str) -> str:
    """An actor's name: not empty, and short enough for every column it goes in (SQLite does not enforce column
    lengths, PostgreSQL refused the insert naming no field). A grant or revoke is recorded under the name, so the
    caller checks it before the operation is."""
    require_name(name)
    if len(name) > NAME_LENGTH:
        raise InvalidInput(f"an actor name is at most {NAME_LENGTH} characters, {len(name)} given", field="actor")
    return name


def bootstrap(conn: Connection, name: str) -> None:
    """Make ``name`` the administrator of a new book: an actor holding every permission."""
    conn.execute(insert(actors).values(name=valid_name(name)))
    conn.execute(insert(actor_permissions), [{"actor": name, "permission": p} for p in sorted(ALL_PERMISSIONS)])


def _write(conn: Connection, name: str, permissions: Iterable[str]) -> None:
    """``name`` holds exactly ``permissions`` (added if new)."""
    if conn.execute(select(actors.c.name).where(actors.c.name == name)).first() is None:
        conn.execute(insert(actors).values(name=valid_name(name)))
    conn.execute(delete(actor_permissions).where(actor_permissions.c.actor == name))
    rows = [{"actor": name, "permission": p} for p in sorted(permissions)]
    if rows:
        conn.execute(insert(actor_permissions), rows)


def _keep_a_manager(conn: Connection, changed: str) -> None:
    if not any(MANAGE in held for held in read_actors(conn).values()):
        raise RuleViolation(
            f"no actor would hold {MANAGE}: the book's permissions could never be changed again",
            document=changed,
            field="permissions",
        )


def grant(ctx: Context, name: str, permissions: Iterable[str]) -> ActorView:
    ctx.actor.require(MANAGE, document=name)
    require_name(name)
    held = read_actors(ctx.conn).get(name, frozenset())
    _write(ctx.conn, name, held | set(_known(permissions, name)))
    return views({name: read_actors(ctx.conn)[name]})[0]


def revoke(ctx: Context, name: str, permissions: Iterable[str]) -> ActorView:
    ctx.actor.require(MANAGE, document=name)
    held = read_actors(ctx.conn).get(require_name(name))
    if held is None:
        raise NotFound(f"unknown actor {name!r}", document=name, field="actor")
    _write(ctx.conn, name, held - set(_known(permissions, name)))
    _keep_a_manager(ctx.conn, name)
    return views({name: read_actors(ctx.conn)[name]})[0]


def set_actors(ctx: Context, wanted: Mapping[str, Iterable[str]]) -> ActorsResult:
    ctx.actor.require(MANAGE)
    for name, permissions in sorted(wanted.items()):
        _write(ctx.conn, require_name(name), _known(permissions, name))
    _keep_a_manager(ctx.conn, ", ".join(sorted(wanted)))
    held = read_actors(ctx.conn)
    return ActorsResult(actors=views({name: held[name] for name in wanted}))
