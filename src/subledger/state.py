"""Documents as the operations see them: a document, its lines and their open balances, read and written whole.

It sits beneath the operations (and beside ``queries``, which shows documents through it).

``DocumentState`` is what a write-off or reversal reads (with the account locked) and what it creates for a
generated memo; ``insert_documents`` writes new ones in bulk and ``update_balances`` moves line balances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from subledger.errors import NotFound
from subledger.money import ZERO, quantize
from subledger.posting import Codes, DocumentKind, Role
from subledger.storage.bulk import insert_rows, one_of, pairs_in, update_rows
from subledger.storage.schema import document_items, documents, taxation_items

if TYPE_CHECKING:
    from subledger.context import Context


#: Marks a descriptive field of a line: what the load file gave, absent by default, copied as it is by a memo
#: mirroring the line (``detail_names``).
DETAIL = {"detail": True}


def detail_names(line: type) -> tuple[str, ...]:
    """The names of ``line``'s descriptive fields, in their order."""
    return tuple(f.name for f in fields(line) if f.metadata.get("detail"))


@dataclass
class TaxLine:
    id: str
    item_id: str
    line_no: int
    tax_amount: Decimal
    balance: Decimal
    sales_tax_code: str
    ar_code: str
    on_account_code: str | None = None
    name: str | None = field(default=None, metadata=DETAIL)
    jurisdiction: str | None = field(default=None, metadata=DETAIL)
    location_code: str | None = field(default=None, metadata=DETAIL)
    tax_code: str | None = field(default=None, metadata=DETAIL)
    tax_code_description: str | None = field(default=None, metadata=DETAIL)
    tax_mode: str | None = field(default=None, metadata=DETAIL)
    tax_rate: str | None = field(default=None, metadata=DETAIL)
    tax_rate_description: str | None = field(default=None, metadata=DETAIL)
    tax_rate_type: str | None = field(default=None, metadata=DETAIL)
    exempt_amount: Decimal | None = field(default=None, metadata=DETAIL)
    tax_date: dt.date | None = field(default=None, metadata=DETAIL)
    source_tax_item_id: str | None = None

    @property
    def amount(self) -> Decimal:
        return self.tax_amount

    def codes(self) -> Codes:
        """The codes the line was given when loaded or generated (``posting.resolve_codes``)."""
        return {Role.AR: self.ar_code, Role.SALES_TAX: self.sales_tax_code, Role.ON_ACCOUNT: self.on_account_code or ""}


#: A taxation line's descriptive fields (marked ``DETAIL``).
TAX_DETAILS = detail_names(TaxLine)


def new_tax_line(
    line_id: str, item_id: str, amount: Decimal, codes: Codes, details: Any, source_tax_item_id: str | None
) -> TaxLine:
    """A new taxation line of ``amount``, open for all of it, posting to ``codes`` (``posting.resolve_codes``), with
    the ``TAX_DETAILS`` of ``details`` (a load file's taxation item, or the line a memo mirrors)."""
    copied = {name: getattr(details, name) for name in TAX_DETAILS}
    if copied["tax_rate"] is not None:
        copied["tax_rate"] = str(copied["tax_rate"])
    sales_tax, ar, on_account = codes[Role.SALES_TAX], codes[Role.AR], codes.get(Role.ON_ACCOUNT)
    return TaxLine(
        line_id, item_id, 0, amount, amount, sales_tax, ar, on_account, **copied, source_tax_item_id=source_tax_item_id
    )


@dataclass
class ItemLine:
    id: str
    line_no: int
    processing_type: str
    amount: Decimal
    balance: Decimal
    revenue_code: str
    ar_code: str
    on_account_code: str | None = None
    charge_name: str | None = field(default=None, metadata=DETAIL)
    subscription_number: str | None = field(default=None, metadata=DETAIL)
    applied_to_item_id: str | None = None
    quantity: str | None = field(default=None, metadata=DETAIL)
    unit_price: str | None = field(default=None, metadata=DETAIL)
    source_item_id: str | None = None
    source_item_type: str | None = None
    charge_model: str | None = field(default=None, metadata=DETAIL)
    charge_number: str | None = field(default=None, metadata=DETAIL)
    description: str | None = field(default=None, metadata=DETAIL)
    unit_of_measure: str | None = field(default=None, metadata=DETAIL)
    sku: str | None = field(default=None, metadata=DETAIL)
    sku_name: str | None = field(default=None, metadata=DETAIL)
    service_start_date: dt.date | None = field(default=None, metadata=DETAIL)
    service_end_date: dt.date | None = field(default=None, metadata=DETAIL)
    taxes: list[TaxLine] = field(default_factory=list)

    def codes(self) -> Codes:
        """The codes the line was given when loaded or generated (``posting.resolve_codes``)."""
        return {Role.AR: self.ar_code, Role.REVENUE: self.revenue_code, Role.ON_ACCOUNT: self.on_account_code or ""}


#: An item's descriptive fields (marked ``DETAIL``).
ITEM_DETAILS = detail_names(ItemLine)


def new_item_line(
    line_id: str, line_no: int, processing_type: str, amount: Decimal, codes: Codes, details: Any
) -> ItemLine:
    """A new item of ``amount``, open for all of it, posting to ``codes`` (``posting.resolve_codes``), with the
    ``ITEM_DETAILS`` of ``details`` (a load file's item, or the item a memo mirrors)."""
    copied = {name: getattr(details, name) for name in ITEM_DETAILS}
    for number in ("quantity", "unit_price"):
        if copied[number] is not None:
            copied[number] = str(copied[number])
    revenue, ar, on_account = codes[Role.REVENUE], codes[Role.AR], codes.get(Role.ON_ACCOUNT)
    return ItemLine(line_id, line_no, processing_type, amount, amount, revenue, ar, on_account, **copied)


@dataclass
class DocumentState:
    account_number: str
    number: str
    kind: DocumentKind
    status: str
    document_date: dt.date
    currency: str
    items: list[ItemLine]
    due_date: dt.date | None = None
    reason_code: str | None = None
    comment: str | None = None
    source: str | None = None
    source_type: str | None = None
    source_document: str | None = None
    bill_run_id: str | None = None
    revenue_impacting: bool | None = None
    non_revenue_code: str | None = None
    reversed: bool = False
    transferred_to_accounting: bool = False
    content_hash: str = ""
    payload: str = "{}"

    def __post_init__(self) -> None:
        self.kind = DocumentKind(self.kind)  # read from a row or a caller's string

    @property
    def amount(self) -> Decimal:
        return sum((i.amount + sum((t.amount for t in i.taxes), ZERO) for i in self.items), ZERO)

    @property
    def balance(self) -> Decimal:
        """Open balance (invoices, debit memos) or unapplied amount (credit memos)."""
        return sum((i.balance + sum((t.balance for t in i.taxes), ZERO) for i in self.items), ZERO)

    def lines(self) -> Iterable[ItemLine | TaxLine]:
        for item in self.items:
            yield item
            yield from item.taxes


_DOC_FIELDS = [c.key for c in documents.c if c.key != "operation_id"]
_ITEM_FIELDS = [c.key for c in document_items.c if c.key not in ("account_number", "document_number")]
_TAX_FIELDS = [c.key for c in taxation_items.c if c.key not in ("account_number", "document_number")]


def fetch_documents(
    conn: Connection, numbers: Sequence[str], *, kind: DocumentKind | None = None, lock: bool = False
) -> dict[str, DocumentState]:
    """Documents by number with their lines (in line order), amounts quantized to the document's currency.

    ``lock`` takes row locks on PostgreSQL."""
    if not numbers:
        return {}
    query = select(documents).where(one_of(conn, documents.c.number, numbers))
    if kind is not None:
        query = query.where(documents.c.kind == kind)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    docs: dict[str, DocumentState] = {}
    for row in conn.execute(query).mappings():
        docs[row["number"]] = DocumentState(**{k: row[k] for k in _DOC_FIELDS}, items=[])
    if not docs:
        return docs
    pairs = [(d.account_number, d.number) for d in docs.values()]
    items: dict[str, ItemLine] = {}
    item_rows = conn.execute(
        select(document_items)
        .where(pairs_in(conn, (document_items.c.account_number, document_items.c.document_number), pairs))
        .order_by(document_items.c.document_number, document_items.c.line_no)
    ).mappings()
    for row in item_rows:
        item = ItemLine(**{k: row[k] for k in _ITEM_FIELDS})
        currency = docs[row["document_number"]].currency
        item.amount, item.balance = quantize(item.amount, currency), quantize(item.balance, currency)
        items[item.id] = item
        docs[row["document_number"]].items.append(item)
    tax_rows = conn.execute(
        select(taxation_items)
        .where(pairs_in(conn, (taxation_items.c.account_number, taxation_items.c.document_number), pairs))
        .order_by(taxation_items.c.document_number, taxation_items.c.line_no)
    ).mappings()
    for row in tax_rows:
        tax = TaxLine(**{k: row[k] for k in _TAX_FIELDS})
        currency = docs[row["document_number"]].currency
        tax.tax_amount, tax.balance = quantize(tax.tax_amount, currency), quantize(tax.balance, currency)
        if tax.exempt_amount is not None:
            tax.exempt_amount = quantize(tax.exempt_amount, currency)
        items[row["item_id"]].taxes.append(tax)
    return docs


def fetch_document(
    conn: Connection, number: str, *, kind: DocumentKind | None = None, lock: bool = False, label: str = "document"
) -> DocumentState:
    found = fetch_documents(conn, [number], kind=kind, lock=lock)
    if number not in found:
        raise NotFound(f"no {label} {number}", document=number)
    return found[number]


def line_of_kind(
    line: ItemLine | TaxLine | None, line_id: str, is_tax: bool, *, owner: str, document: str, field: str
) -> ItemLine | TaxLine:
    """``line`` (the one a request's item names by ``line_id``) when it is there and of the kind named: a taxation
    item (``is_tax``) or an item; otherwise ``NotFound`` naming ``owner``'s missing line and the request's ``field``."""
    if line is None or isinstance(line, TaxLine) != is_tax:
        raise NotFound(
            f"{owner} has no {'taxation item' if is_tax else 'item'} {line_id}", document=document, field=field
        )
    return line


def fetch_locked_document(ctx: Context, number: str, *, kind: DocumentKind, label: str) -> DocumentState:
    """The document, locked, its account locked first (accounts are locked before their documents)."""
    account = ctx.conn.execute(
        select(documents.c.account_number).where(documents.c.number == number, documents.c.kind == kind)
    ).scalar()
    if account is not None:
        ctx.lock_accounts([account])
    return fetch_document(ctx.conn, number, kind=kind, lock=True, label=label)


def document_rows(
    docs: Sequence[DocumentState], operation_id: int
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    """The rows of new documents: (documents, document items, taxation items)."""
    doc_rows: list[dict[str, object]] = []
    item_rows: list[dict[str, object]] = []
    tax_rows: list[dict[str, object]] = []
    for doc in docs:
        account, number = doc.account_number, doc.number
        doc_rows.append({**{k: getattr(doc, k) for k in _DOC_FIELDS}, "operation_id": operation_id})
        for item in doc.items:
            row = {k: getattr(item, k) for k in _ITEM_FIELDS}
            row["account_number"], row["document_number"] = account, number
            item_rows.append(row)
            for tax in item.taxes:
                tax_row = {k: getattr(tax, k) for k in _TAX_FIELDS}
                tax_row["account_number"], tax_row["document_number"] = account, number
                tax_rows.append(tax_row)
    return doc_rows, item_rows, tax_rows


def insert_documents(conn: Connection, docs: Sequence[DocumentState], operation_id: int) -> None:
    """Write new documents with their items and taxation items in three bulk inserts."""
    if not docs:
        return
    doc_rows, item_rows, tax_rows = document_rows(docs, operation_id)
    insert_rows(conn, documents, doc_rows)
    insert_rows(conn, document_items, item_rows)
    insert_rows(conn, taxation_items, tax_rows)


def update_balances(conn: Connection, account_number: str, changes: Iterable[ItemLine | TaxLine]) -> None:
    """Write the current ``balance`` of each given line (already moved in memory by the operation)."""
    write_balances(conn, ((account_number, line) for line in changes))


def write_balances(conn: Connection, changes: Iterable[tuple[str, ItemLine | TaxLine]]) -> None:
    """``update_balances`` over lines of many accounts (account number, line): one driver-level update per table."""
    items: list[dict[str, object]] = []
    taxes: list[dict[str, object]] = []
    for account, line in changes:
        (taxes if isinstance(line, TaxLine) else items).append(
            {"balance": line.balance, "account_number": account, "id": line.id}
        )
    for table, rows in ((document_items, items), (taxation_items, taxes)):
        update_rows(conn, table, rows, set_=("balance",), where=("account_number", "id"))


def set_flags(conn: Connection, account_number: str, number: str, **values: object) -> None:
    """Set document-level flags (``reversed``, ``transferred_to_accounting``)."""
    conn.execute(
        update(documents)
        .where(documents.c.account_number == account_number, documents.c.number == number)
        .values(**values)
    )
