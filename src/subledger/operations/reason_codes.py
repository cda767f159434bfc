"""Reason codes: list, add, deactivate (an administrator manages them: shared domain decision).

Adding or deactivating one is an operation like any other: one transaction, recorded, refused (and audited) for an
actor without the permission that guards the book's set-up, ``Set Up Books`` where the book has it, otherwise only
the book's administrator. A deactivated code stays on the memos that carry it; a request naming it is refused.
Adding a code that is inactive makes it active again.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, select, update

from subledger.context import Context
from subledger.errors import Conflict, PermissionDenied, UnknownReasonCode
from subledger.models.base import OutputModel
from subledger.permissions import ADMIN, ALL_PERMISSIONS
from subledger.storage.schema import reason_codes

MemoKind = Literal["CreditMemo", "DebitMemo"]
#: The permission that guards the book's set-up (chart, calendar, reason codes), once the book has one.
SET_UP = "Set Up Books"


class ReasonCodeView(OutputModel):
    document_type: str
    name: str
    active: bool


class ReasonCodeChange(OutputModel):
    document_type: str
    name: str
    from_status: str
    to_status: str


def list_reason_codes(conn: Connection, document_type: MemoKind | None = None) -> list[ReasonCodeView]:
    query = select(reason_codes).order_by(reason_codes.c.document_type, reason_codes.c.name)
    if document_type is not None:
        query = query.where(reason_codes.c.document_type == document_type)
    return [ReasonCodeView(document_type=r.document_type, name=r.name, active=r.active) for r in conn.execute(query)]


def _require(ctx: Context, name: str) -> None:
    actor = ctx.actor
    if SET_UP in ALL_PERMISSIONS:
        actor.require(SET_UP, document=name)  # type: ignore[arg-type]
    elif actor.name != ADMIN:
        raise PermissionDenied(
            f"actor {actor.name!r} cannot manage reason codes: the administrator does", document=name
        )


def _current(ctx: Context, document_type: MemoKind, name: str) -> bool | None:
    row = ctx.conn.execute(
        select(reason_codes.c.active).where(reason_codes.c.document_type == document_type, reason_codes.c.name == name)
    ).first()
    return None if row is None else bool(row.active)


def add(ctx: Context, document_type: MemoKind, name: str) -> ReasonCodeChange:
    _require(ctx, name)
    if not name.strip() or len(name) > 100:
        raise Conflict("a reason code name is 1 to 100 characters, not blank", document=name, field="name")
    active = _current(ctx, document_type, name)
    if active:
        raise Conflict(f"{document_type} reason code {name!r} exists and is active", document=name, field="name")
    if active is None:
        ctx.conn.execute(reason_codes.insert().values(document_type=document_type, name=name, active=True))
    else:
        ctx.conn.execute(
            update(reason_codes)
            .where(reason_codes.c.document_type == document_type, reason_codes.c.name == name)
            .values(active=True)
        )
    return ReasonCodeChange(
        document_type=document_type, name=name, from_status="none" if active is None else "Inactive", to_status="Active"
    )


def deactivate(ctx: Context, document_type: MemoKind, name: str) -> ReasonCodeChange:
    _require(ctx, name)
    active = _current(ctx, document_type, name)
    if active is None:
        raise UnknownReasonCode(f"unknown {document_type} reason code {name!r}", document=name, field="name")
    if not active:
        raise Conflict(f"{document_type} reason code {name!r} is already inactive", document=name, field="name")
    ctx.conn.execute(
        update(reason_codes)
        .where(reason_codes.c.document_type == document_type, reason_codes.c.name == name)
        .values(active=False)
    )
    return ReasonCodeChange(document_type=document_type, name=name, from_status="Active", to_status="Inactive")
