"""Loading documents from the billing system: customer accounts, invoices, debit memos, credit memos, payments.

A load file is one operation: every problem in it is reported together and nothing is written unless all of it is
good. Loading the same file twice changes nothing (each document is recognised by its number and content hash, or
failing the hash by its values: ``330.0`` is the ``330.00`` loaded before); a number that comes back with different
values is a conflict naming the first field that differs, but for one change: the billing system's lifecycle. A
document loaded as a Draft (a payment: Draft or Processing) that comes back moved forward (``FORWARD``: Posted or
Canceled; a payment Processed or Canceled), its content otherwise the same, takes its new status and content, and
what a load of it in that status posts is posted then. Posted documents are posted to the journal by the posting
rules; payments and credit memos are applied item by item as the file says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, ParamSpec, TypeVar

from pydantic import ValidationError
from sqlalchemy import Connection, and_, literal, select, tuple_, union_all

from subledger.context import Context, require_settlement
from subledger.errors import Conflict, NotFound, Problem, Problems, RuleViolation, SubledgerError
from subledger.journal import Entry, EntryBuilder, Tag, post
from subledger.models.base import Model, OutputModel
from subledger.models.documents import (
    Application,
    CreditMemo,
    CustomerAccount,
    DebitMemo,
    Invoice,
    ItemFinanceInformation,
    LoadFile,
    MemoItem,
    Payment,
    TaxationItem,
    TaxFinanceInformation,
)
from subledger.models.errors import record_problems
from subledger.models.loadstream import SECTIONS, Item, LoadSource
from subledger.money import ZERO, shown
from subledger.operations.base import MAX_RAW_REQUEST, canonical_json
from subledger.operations.documents import posting_entries
from subledger.operations.settlement import (
    Applications,
    Line,
    PaymentSource,
    fifo,
    itemised,
    not_before_billed,
    not_before_taken_back,
    taken_back,
)
from subledger.posting import DocumentKind, Posts, Role, TransactionType, line_type, resolve_codes, transaction_type
from subledger.state import (
    DocumentState,
    ItemLine,
    TaxLine,
    fetch_documents,
    insert_documents,
    new_item_line,
    new_tax_line,
    write_balances,
)
from subledger.storage.bulk import insert_rows, one_of, pairs_in, update_rows
from subledger.storage.schema import customer_accounts, document_items, documents, payments, taxation_items

P = ParamSpec("P")
T = TypeVar("T")

REVENUE_TYPES = ("DeferredRevenue", "SalesRevenue", "SalesDiscounts", "OtherRevenue", "OtherLiabilities")
ON_ACCOUNT_TYPES = ("On-Account Receivable", "CustomerCashOnAccount", "OtherLiabilities")

#: The billing system's lifecycle as reloads bring it: a stored status -> the statuses a reload may move it to. Only
#: what is not yet in the journal moves (a Draft document, a Draft or Processing payment posted nothing and nothing
#: was applied to or from it); anything else that comes back changed is a conflict.
FORWARD: dict[str, dict[str, tuple[str, ...]]] = {
    "document": {"Draft": ("Posted", "Canceled")},
    "Payment": {"Draft": ("Processing", "Processed", "Canceled"), "Processing": ("Processed", "Canceled")},
}
#: What a reload that moves a document on may change besides its status: a payment or credit memo not yet posted
#: cannot be applied, so its applications come with the move.
MOVES_WITH_STATUS = ("status", "applications")

KIND_OF = {Invoice: DocumentKind.INVOICE, DebitMemo: DocumentKind.DEBIT_MEMO, CreditMemo: DocumentKind.CREDIT_MEMO}
#: Each record of a load file (by ``id``) -> its canonical JSON.
Payloads = dict[int, str]
#: Records checked and written at a time: what a load holds in memory, whatever the size of the file.
BATCH = 1_000
#: Problems after which a load stops reading the file (each is reported).
MAX_PROBLEMS = 1_000


class LoadResult(OutputModel):
    loaded: dict[str, int]
    #: Documents already in the books that the load moved on (Draft -> Posted or Canceled; a payment Draft or
    #: Processing -> Processed or Canceled), by kind; what they post is in ``journal_entries``.
    updated: dict[str, int] = {}
    unchanged: dict[str, int]
    journal_entries: int
    documents: list[str]


class _Loader:
    def __init__(self, ctx: Context, file: LoadFile, payloads: Payloads | None = None) -> None:
        self.ctx = ctx
        self.file = file
        self.payloads: Payloads = payloads or {}
        self.problems: list[Problem] = []
        self.loaded: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.accounts: dict[str, str] = {}  # account number -> currency
        self.new_docs: dict[str, DocumentState] = {}
        #: For targets already in the books: the day each one's balance last grew back (``settlement.taken_back``).
        self.taken: dict[str, dt.date] = {}
        #: Documents already in the books that this batch moves on (``FORWARD``), in their new status and content.
        self.moved_docs: dict[str, DocumentState] = {}
        #: Payments already in the books that this batch moves on: their rows as a load of them would write them.
        self.moved_payments: list[dict[str, object]] = []
        self.entries: list[Entry] = []
        self.applications = Applications(ctx.operation_id)
        self.touched: dict[str, list[Line]] = {}  # lines of documents already in the books whose balance moved
        #: Account numbers met so far in the file (shared by the batches of one load).
        self.seen_accounts: set[str] = set()
        #: Numbers this load already wrote (an earlier batch of the same file): a repeat, not an unchanged record.
        self.repeated: set[str] = set()
        #: Numbers of documents already in the books that this load moved on (shared by its batches, like ``repeated``).
        self.moved: set[str] = set()

    def payload(self, model: Model) -> tuple[str, str]:
        """A record's canonical JSON and its content hash (``digest`` of it), serialised once."""
        payload = self.payloads.get(id(model))
        if payload is None:
            payload = self.payloads[id(model)] = canonical_json(model)
        return payload, hashlib.sha256(payload.encode()).hexdigest()

    def attempt(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """Run one validation; a broken rule becomes a problem to report with the others."""
        try:
            return fn(*args, **kwargs)
        except SubledgerError as exc:
            if isinstance(exc, Problems):
                self.problems.extend(exc.problems)
            else:
                self.problems.append(exc.problem)
            return None

    # --- customer accounts -------------------------------------------------------------------------------------

    def load_accounts(self) -> list[dict[str, object]]:
        conn = self.ctx.conn
        wanted = {a.account_number for a in self.file.accounts}
        wanted.update(d.account_number for d in (*self.file.invoices, *self.file.debit_memos, *self.file.credit_memos))
        wanted.update(p.account_number for p in self.file.payments)
        existing = {
            r.account_number: r
            for r in conn.execute(
                select(customer_accounts).where(one_of(conn, customer_accounts.c.account_number, sorted(wanted)))
            )
        }
        self.accounts = {n: r.currency for n, r in existing.items()}
        rows: list[dict[str, object]] = []
        seen = self.seen_accounts
        for account in self.file.accounts:
            number = account.account_number
            if number in seen:
                self.problems.append(Problem(number, "accountNumber", "customer account appears twice in the file"))
                continue
            seen.add(number)
            content_hash = self.payload(account)[1]
            if number in existing:
                if existing[number].content_hash != content_hash:
                    self.problems.append(
                        Problem(number, None, "customer account already loaded with different content")
                    )
                else:
                    self.unchanged["accounts"] += 1
                continue
            self.attempt(self.ctx.check_currency, account.currency, document=number)
            self.accounts[number] = account.currency
            rows.append(self._account_row(account, content_hash))
            self.loaded["accounts"] += 1
        return rows

    @staticmethod
    def _account_row(account: CustomerAccount, content_hash: str) -> dict[str, object]:
        return {
            "account_number": account.account_number,
            "name": account.name,
            "currency": account.currency,
            "content_hash": content_hash,
            "last_entry_seq": 0,
            "last_entry_hash": "",
        }

    def check_account(self, number: str, account_number: str, currency: str) -> None:
        if account_number not in self.accounts:
            raise NotFound(f"unknown customer account {account_number}", document=number, field="accountNumber")
        if self.accounts[account_number] != currency:
            raise RuleViolation(
                f"currency {currency} differs from account {account_number}'s currency {self.accounts[account_number]}",
                document=number,
                field="currency",
            )

    # --- documents ---------------------------------------------------------------------------------------------

    def existing(self, conn: Connection, numbers: list[str]) -> dict[str, tuple[str, str, str]]:
        """Numbers already in the books with their kind, content hash and status; those an earlier batch of this
        load wrote or moved on go to ``repeated`` instead."""
        found: dict[str, tuple[str, str, str]] = {}
        this = self.ctx.operation_id
        for chunk in _chunks(numbers):
            for table, kind in ((documents, documents.c.kind), (payments, literal("Payment"))):
                query = select(table.c.number, kind, table.c.content_hash, table.c.status, table.c.operation_id)
                for number, found_kind, content_hash, status, operation_id in conn.execute(
                    query.where(one_of(conn, table.c.number, chunk))
                ):
                    if operation_id == this or number in self.moved:
                        self._repeat(number)
                    else:
                        found[number] = (found_kind, content_hash, status)
        return found

    def moves_on(self, number: str, label: str, stored: tuple[str, str, str], kind: str, model: Model) -> bool:
        """Whether a record that comes back with different content moves its document on in the billing system's
        lifecycle (``FORWARD``): a status change from a stored Draft (a payment: Draft or Processing) forward, the
        content otherwise the same (``MOVES_WITH_STATUS``). A status a load cannot move it to is refused here; any
        other change is for the caller to refuse as a conflict."""
        old_kind, _, old_status = stored
        new_status = getattr(model, "status", None)
        if old_kind != kind or new_status == old_status:
            return False
        forward = FORWARD["Payment" if kind == "Payment" else "document"]
        if new_status not in forward.get(old_status, ()):
            raise RuleViolation(
                f"{label} {number} is {old_status} in the books: a load cannot move it to {new_status}",
                document=number,
                field="status",
            )
        return self.stored_difference(number, kind, model, besides=MOVES_WITH_STATUS) is None

    def stored_difference(self, number: str, kind: str, model: Model, *, besides: Sequence[str] = ()) -> str | None:
        """None when the record says what the books' copy of it says (``besides`` those fields), value by value:
        an amount of ``150.0`` is the ``150.00`` loaded before, a field left out the default given before; else
        the first field where they differ, as the file names it."""
        table = payments if kind == "Payment" else documents
        text = self.ctx.conn.execute(select(table.c.payload).where(table.c.number == number)).scalar_one()
        try:
            old = type(model).model_validate_json(text)
        except ValidationError:  # a copy this version no longer reads is not the same content
            return ""
        if besides:
            old = old.model_copy(update={field: getattr(model, field) for field in besides if hasattr(model, field)})
        if old == model:
            return None
        return _difference(old.model_dump(by_alias=True), model.model_dump(by_alias=True), "") or ""

    def reloaded(self, number: str, label: str, kind: str, stored: tuple[str, str, str], model: Model) -> bool:
        """A record already in the books: counted unchanged when its content is (to the letter, or value by value),
        a conflict naming what differs when it changed other than by moving on (``moves_on``); True when it moves
        its document on."""
        _, content_hash = self.payload(model)
        if stored[:2] == (kind, content_hash):
            self.unchanged[kind] += 1
            return False
        moves = self.attempt(self.moves_on, number, label, stored, kind, model)
        if moves is not False:
            return bool(moves)
        difference = self.stored_difference(number, kind, model) if stored[0] == kind else ""
        if difference is None:
            self.unchanged[kind] += 1
            return False
        rule = f"{label} {number} was already loaded with different content"
        self.problems.append(Conflict(f"{rule} ({difference})" if difference else rule, document=number).problem)
        return False

    def _repeat(self, number: str) -> None:
        if number not in self.repeated:
            self.repeated.add(number)
            self.problems.append(Problem(number, "number", "document number appears more than once in the file"))

    def load_documents(self) -> None:
        all_docs: list[Invoice | DebitMemo | CreditMemo] = [
            *self.file.invoices,
            *self.file.debit_memos,
            *self.file.credit_memos,
        ]
        numbers = [d.number for d in all_docs] + [p.number for p in self.file.payments]
        for number, count in Counter(numbers).items():
            if count > 1:
                self.problems.append(Problem(number, "number", "document number appears more than once in the file"))
        existing = self.existing(self.ctx.conn, sorted(set(numbers)))
        item_ids: Counter[str] = Counter()
        for model in all_docs:
            kind = KIND_OF[type(model)]
            payload, content_hash = self.payload(model)
            if model.number in self.repeated:
                continue
            if model.number in existing:
                if self.reloaded(model.number, kind.label, kind, existing[model.number], model):
                    self.attempt(self.move, model, kind, payload, content_hash)
                continue
            doc = self.attempt(self.build, model, kind, payload, content_hash)
            if isinstance(doc, DocumentState):
                self.new_docs[doc.number] = doc
                self.loaded[kind] += 1
                for line in doc.lines():
                    item_ids[line.id] += 1
        for line_id, count in item_ids.items():
            if count > 1:
                self.problems.append(Problem(line_id, "id", "item id is used by more than one line in the file"))
        lines = sorted({(doc.account_number, line.id) for doc in self.new_docs.values() for line in doc.lines()})
        self.check_item_ids_unused(lines)

    def move(
        self, model: Invoice | DebitMemo | CreditMemo, kind: DocumentKind, payload: str, content_hash: str
    ) -> None:
        """A document already in the books, moved on to the record's status and content; posted (as a load of it
        Posted posts it) when it moves to Posted. Its lines are the stored ones: the record's are the same."""
        doc = fetch_documents(self.ctx.conn, [model.number], kind=kind, lock=True)[model.number]
        self.ctx.open_period(doc.document_date, document=doc.number, field=_date_field(kind))
        doc.status, doc.content_hash, doc.payload = model.status, content_hash, payload
        if doc.status == "Posted":
            self.entries.extend(posting_entries(doc))
        self.moved_docs[doc.number] = doc
        self.updated[kind] += 1

    def check_item_ids_unused(self, lines: list[tuple[str, str]]) -> None:
        """Item ids of the batch already used in their customer accounts (by the primary key: a probe per line).

        An id used under another account is found once the whole file is written (``item_ids_elsewhere``, one
        pass for the load instead of one per batch)."""
        conn = self.ctx.conn
        for table in (document_items, taxation_items) if lines else ():
            query = select(table.c.id, table.c.document_number).where(
                pairs_in(conn, (table.c.account_number, table.c.id), lines)
            )
            for r in conn.execute(query.order_by(table.c.id)):
                self.problems.append(Problem(r.id, "id", f"item id is already used by document {r.document_number}"))

    def build(
        self, model: Invoice | DebitMemo | CreditMemo, kind: DocumentKind, payload: str, content_hash: str
    ) -> DocumentState:
        ctx, number = self.ctx, model.number
        self.check_account(number, model.account_number, model.currency)
        ctx.check_currency(model.currency, document=number)
        date: dt.date = model.document_date  # type: ignore[assignment]
        ctx.open_period(date, document=number, field=_date_field(kind))
        reason = getattr(model, "reason_code", None)
        if reason is not None:
            ctx.reason_code(kind, reason, document=number)
        charge_type, tax_type = line_type(kind, tax=False), line_type(kind, tax=True)
        by_id = {item.id: item for item in model.lines}
        items: list[ItemLine] = []
        for n, item in enumerate(model.lines, start=1):
            field = f"items[{n - 1}]"
            finance = item.finance_information
            if item.processing_type == "Discount" and item.applied_to_item_id not in by_id:
                raise RuleViolation(
                    f"discount item {item.id} must name the item it discounts (appliedToItemId) in this document",
                    document=number,
                    field=f"{field}.appliedToItemId",
                )
            if (
                item.processing_type == "Discount"
                and not finance.deferred_revenue_accounting_code
                and not finance.recognized_revenue_accounting_code
                and item.applied_to_item_id is not None
            ):
                finance = by_id[item.applied_to_item_id].finance_information
            revenue = finance.deferred_revenue_accounting_code or finance.recognized_revenue_accounting_code
            revenue_field = (
                "deferredRevenueAccountingCode"
                if finance.deferred_revenue_accounting_code
                else "recognizedRevenueAccountingCode"
            )
            ctx.code(
                revenue,
                document=number,
                field=f"{field}.financeInformation.{revenue_field}",
                types=REVENUE_TYPES,
            )
            if finance.recognized_revenue_accounting_code:
                ctx.code(
                    finance.recognized_revenue_accounting_code,
                    document=number,
                    field=f"{field}.financeInformation.recognizedRevenueAccountingCode",
                    types=REVENUE_TYPES,
                )
            ar, on_account = self._receivable_codes(finance, kind, number, field)
            codes = resolve_codes(
                charge_type,
                ctx.defaults,
                deferred=finance.deferred_revenue_accounting_code,
                recognized=finance.recognized_revenue_accounting_code,
                ar=ar,
                on_account=on_account,
            )
            line = new_item_line(item.id, n, item.processing_type, item.amount, codes, item)
            line.applied_to_item_id = item.applied_to_item_id
            if isinstance(item, MemoItem):
                line.source_item_id, line.source_item_type = item.source_item_id, item.source_item_type
            line.taxes = [
                self._tax(tax, line, kind, tax_type, number, f"{field}.taxationItems[{t}]")
                for t, tax in enumerate(item.taxation_items)
            ]
            items.append(line)
        return DocumentState(
            account_number=model.account_number,
            number=number,
            kind=kind,
            status=model.status,
            document_date=date,
            due_date=getattr(model, "due_date", None),
            currency=model.currency,
            items=items,
            reason_code=getattr(model, "reason_code", None),
            comment=model.comment,
            source=getattr(model, "source", None),
            source_type=getattr(model, "source_type", None),
            source_document=getattr(model, "referred_invoice_number", None)
            or getattr(model, "referred_debit_memo_number", None),
            bill_run_id=model.bill_run_id,
            content_hash=content_hash,
            payload=payload,
        )

    def _receivable_codes(
        self,
        finance: ItemFinanceInformation | TaxFinanceInformation,
        kind: DocumentKind,
        number: str,
        field: str,
    ) -> tuple[str | None, str | None]:
        """The receivable code a line names, and (credit memo lines) its on-account code, each checked."""
        ar = self._named(
            finance.accounts_receivable_accounting_code,
            number,
            f"{field}.financeInformation.accountsReceivableAccountingCode",
            ("AccountsReceivable",),
        )
        if kind != DocumentKind.CREDIT_MEMO:
            return ar, None
        on_account = self._named(
            finance.on_account_accounting_code,
            number,
            f"{field}.financeInformation.onAccountAccountingCode",
            ON_ACCOUNT_TYPES,
        )
        return ar, on_account

    def _named(self, name: str | None, number: str, field: str, types: Sequence[str]) -> str | None:
        """The code a line names, checked (active, of one of ``types``); None when it leaves it to the default."""
        if name is None:
            return None
        return self.ctx.code(name, document=number, field=field, types=types).name

    def _tax(
        self,
        tax: TaxationItem,
        item: ItemLine,
        kind: DocumentKind,
        tax_type: TransactionType,
        number: str,
        field: str,
    ) -> TaxLine:
        finance = tax.finance_information
        sales_tax = self._named(
            finance.sales_tax_payable_accounting_code,
            number,
            f"{field}.financeInformation.salesTaxPayableAccountingCode",
            ("SalesTaxPayable", "OtherLiabilities"),
        )
        ar, on_account = self._receivable_codes(finance, kind, number, field)
        codes = resolve_codes(tax_type, self.ctx.defaults, code=sales_tax, ar=ar, on_account=on_account)
        return new_tax_line(tax.id, item.id, tax.tax_amount, codes, tax, tax.source_tax_item_id)

    # --- postings and applications -----------------------------------------------------------------------------

    def post_documents(self) -> None:
        for doc in self.new_docs.values():
            line_no = 0
            for line in doc.lines():
                if isinstance(line, TaxLine):
                    line_no += 1
                    line.line_no = line_no
            if doc.status == "Posted":
                self.entries.extend(posting_entries(doc))

    def targets(self, apps: Sequence[Application]) -> dict[str, DocumentState]:
        named = {a.target for a in apps}
        found = fetch_documents(self.ctx.conn, sorted(named - self.new_docs.keys()), lock=True)
        self.taken.update(taken_back(self.ctx.conn, [(doc.account_number, n) for n, doc in found.items()]))
        return {**found, **{n: self.new_docs[n] for n in named & self.new_docs.keys()}}

    def target_lines(
        self, app: Application, target: DocumentState, owner: str, field: str
    ) -> list[tuple[Line, Decimal]]:
        if not app.items:
            return fifo(target, app.amount)
        # A load file's item names are matched to lines by id only (an invoiceItemId may name a debit memo's item).
        return itemised(target, app.items, document=owner, field=field, by_kind=False)

    def check_target(
        self, app: Application, targets: dict[str, DocumentState], owner: str, account: str, field: str
    ) -> DocumentState:
        target = targets.get(app.target)
        expected = DocumentKind.INVOICE if app.invoice_number else DocumentKind.DEBIT_MEMO
        label = expected.label
        if target is None or target.kind != expected:
            raise NotFound(f"no {label} {app.target}", document=owner, field=field)
        if target.account_number != account:
            raise RuleViolation(
                f"{label} {app.target} belongs to another customer account", document=owner, field=field
            )
        if target.status != "Posted":
            raise RuleViolation(f"{label} {app.target} is not posted", document=owner, field=field)
        return target

    def application_date(
        self, app: Application, dated: dt.date, what: str, owner: str, field: str, target: DocumentState
    ) -> dt.date:
        """An application's effective date: the one given, else the document's; not before it, nor before the
        target's date, in an open period."""
        date = app.effective_date or dated
        if date < dated:
            raise RuleViolation(
                f"application effective date is before the {what} date", document=owner, field=f"{field}.effectiveDate"
            )
        not_before_billed(date, target, named="application effective date", owner=owner, field=f"{field}.effectiveDate")
        not_before_taken_back(
            date, target.kind.label, target.number, self.taken, owner=owner, field=f"{field}.effectiveDate"
        )
        self.ctx.open_period(date, document=owner, field=f"{field}.effectiveDate")
        return date

    def load_payments(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        existing = self.existing(self.ctx.conn, [p.number for p in self.file.payments])
        fresh = [p for p in self.file.payments if p.number not in existing and p.number not in self.repeated]
        moving: list[Payment] = []
        for p in self.file.payments:
            if p.number in existing and self.reloaded(p.number, "payment", "Payment", existing[p.number], p):
                moving.append(p)
        targets = self.targets([a for p in (*fresh, *moving) for a in p.applications])
        for payment in fresh:
            row = self.attempt(self.payment, payment, targets)
            if isinstance(row, dict):
                rows.append(row)
                self.loaded["Payment"] += 1
        # A payment moved on is written as a load of it in its new status would write it (posted and applied when
        # it is Processed), over its stored row.
        for payment in moving:
            row = self.attempt(self.payment, payment, targets)
            if isinstance(row, dict):
                self.moved_payments.append(row)
                self.updated["Payment"] += 1
        return rows

    def payment(self, p: Payment, targets: dict[str, DocumentState]) -> dict[str, object]:
        ctx = self.ctx
        self.check_account(p.number, p.account_number, p.currency)
        ctx.open_period(p.effective_date, document=p.number, field="effectiveDate")
        posts = transaction_type(Posts.PAYMENT, p.type)
        codes = resolve_codes(posts, ctx.defaults, code=(p.finance_information or {}).get("bankAccountAccountingCode"))
        cash = ctx.code(
            codes[Role.CASH], document=p.number, field="financeInformation.bankAccountAccountingCode", types=("Cash",)
        ).name
        unapplied = codes[Role.UNAPPLIED]
        posted = p.status == "Processed"
        if posted:
            builder = EntryBuilder(
                account_number=p.account_number,
                date=p.effective_date,
                currency=p.currency,
                document_number=p.number,
                tag=Tag.PAYMENT,
                description=f"{p.type} payment {p.number}",
            )
            builder.add(posts, p.amount, {Role.CASH: cash, Role.UNAPPLIED: unapplied}, None)
            self.entries.extend(builder.entries())
        elif p.applications:
            raise RuleViolation(f"a {p.status} payment cannot be applied", document=p.number, field="applications")
        applied = ZERO
        for i, app in enumerate(p.applications):
            field = f"applications[{i}]"
            target = self.check_target(app, targets, p.number, p.account_number, field)
            date = self.application_date(app, p.effective_date, "payment", p.number, field, target)
            parts = self.target_lines(app, target, p.number, field)
            self.entries.extend(
                self.applications.payment(
                    PaymentSource(p.account_number, p.number, p.type, unapplied, p.currency), target, parts, date
                )
            )
            self._touch(target, [line for line, _ in parts])
            applied += app.amount
        payload, content_hash = self.payload(p)
        return {
            "account_number": p.account_number,
            "number": p.number,
            "type": p.type,
            "status": p.status,
            "effective_date": p.effective_date,
            "currency": p.currency,
            "amount": p.amount,
            "unapplied": p.amount - applied,
            "cash_code": cash,
            "unapplied_code": unapplied,
            "content_hash": content_hash,
            "payload": payload,
            "operation_id": ctx.operation_id,
        }

    def apply_credit_memos(self) -> None:
        memos = [m for m in self.file.credit_memos if m.number in self.new_docs and m.applications]
        targets = self.targets([a for m in memos for a in m.applications])
        for model in memos:
            self.attempt(self.credit_memo_applications, model, targets)

    def credit_memo_applications(self, model: CreditMemo, targets: dict[str, DocumentState]) -> None:
        memo = self.new_docs[model.number]
        if memo.status != "Posted":
            raise RuleViolation(
                "a credit memo that is not posted cannot be applied",
                document=memo.number,
                field="applications",
            )
        for i, app in enumerate(model.applications):
            field = f"applications[{i}]"
            target = self.check_target(app, targets, memo.number, memo.account_number, field)
            date = self.application_date(app, memo.document_date, "memo", memo.number, field, target)
            parts = self.target_lines(app, target, memo.number, field)
            pairs: list[tuple[Line, Line, Decimal]] = []
            for target_line, amount in parts:
                remaining = amount
                for memo_line in memo.lines():
                    if remaining == 0:
                        break
                    if memo_line.balance > 0 and isinstance(memo_line, TaxLine) == isinstance(target_line, TaxLine):
                        take = min(memo_line.balance, remaining)
                        pairs.append((memo_line, target_line, take))
                        remaining -= take
                if remaining:
                    raise RuleViolation(
                        f"credit memo has not enough unapplied {_kind(target_line)} amount for {amount} "
                        f"on line {target_line.id}",
                        document=memo.number,
                        field=field,
                    )
            self.entries.extend(self.applications.credit_memo(memo, target, pairs, date))
            self._touch(target, [line for _, line, _ in pairs])

    def _touch(self, target: DocumentState, lines: Sequence[Line]) -> None:
        if target.number not in self.new_docs:
            self.touched.setdefault(target.account_number, []).extend(lines)


def _kind(line: Line) -> str:
    return "tax" if isinstance(line, TaxLine) else "charge"


def _difference(old: object, new: object, path: str) -> str | None:
    """Where the books' copy of a record (``old``) and the file's (``new``) first differ, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            found = _difference(old.get(key), new.get(key), f"{path}.{key}" if path else key)
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for n, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _difference(a, b, f"{path}[{n}]")
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        return f"{path}: {len(old)} in the books, {len(new)} in the file"
    if old == new:
        return None
    return f"{path}: {_shown(old)} in the books, {_shown(new)} in the file"


def _shown(value: object) -> str:
    if value is None:
        return "not given"
    if isinstance(value, (dict, list)):
        return "another value"
    text = value.isoformat() if isinstance(value, dt.date) else shown(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _date_field(kind: DocumentKind) -> str:
    return {
        DocumentKind.INVOICE: "invoiceDate",
        DocumentKind.DEBIT_MEMO: "debitMemoDate",
        DocumentKind.CREDIT_MEMO: "creditMemoDate",
    }[kind]


# --- reading the file: validated, hashed and spooled first, then loaded section by section in batches -------------


@dataclass(frozen=True)
class LoadDigest:
    """What the reading of a load file found: the request to record (and hash), each section's hash, and each
    section's records as their canonical JSON, one a line, in a temporary file (``spools``) that the load reads
    instead of the file: a record is parsed, validated and serialised once (the load's second validation, from
    the canonical text by pydantic's own JSON parser, is the cheap one), and what is loaded is what was hashed."""

    request_json: str
    sections: dict[str, str]
    counts: dict[str, int]
    spools: dict[str, IO[bytes]]

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()


def _validate(item: Item) -> Model:
    """A record as its section's model (a ``ValidationError`` for the caller to report)."""
    model = SECTIONS[item.key]
    if isinstance(item.value, model):
        return item.value
    return model.model_validate(item.value)


def read_load(source: LoadSource) -> LoadDigest:
    """Read the whole file once, before anything is written: every record validated (problems reported together,
    up to ``MAX_PROBLEMS``), every record's canonical JSON hashed into its section's hash and spooled for the load.

    The recorded request is the file's canonical JSON (sorted keys, records in file order) while it stays under
    ``MAX_RAW_REQUEST`` characters, as before; a larger file is recorded as its record counts and section hashes,
    so that neither the request nor its hash needs the file in memory. Either way the hash identifies the content.
    The caller closes the digest (its spools) once the load is done.
    """
    with contextlib.ExitStack() as opened:
        spools: dict[str, IO[bytes]] = {key: opened.enter_context(tempfile.TemporaryFile()) for key in SECTIONS}
        digest = _read_into(source, spools)
        opened.pop_all()  # kept open for the load: closed with the digest
        return digest


def _read_into(source: LoadSource, spools: dict[str, IO[bytes]]) -> LoadDigest:
    problems: list[Problem] = []
    hashers = {key: hashlib.sha256(b"[") for key in SECTIONS}
    counts: Counter[str] = Counter()
    texts: dict[str, list[str]] | None = {key: [] for key in SECTIONS}
    size = 0
    for item in source.items():
        if item.index is None:
            rule = "Input should be a valid array" if item.key in _SECTION_NAMES else "unknown field"
            problems.append(Problem(None, item.key, rule))
            continue
        try:
            model = _validate(item)
        except ValidationError as exc:
            problems.extend(record_problems(exc, item.value, item.key, item.index))
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        payload = canonical_json(model)
        encoded = payload.encode()
        hasher = hashers[item.key]
        if counts[item.key]:
            hasher.update(b",")
        hasher.update(encoded)
        # Canonical JSON escapes every control character, so a newline ends one record.
        spools[item.key].write(encoded + b"\n")
        counts[item.key] += 1
        if texts is not None:
            texts[item.key].append(payload)
            size += len(payload)
            if size > MAX_RAW_REQUEST:
                texts = None
    if problems:
        raise Problems(problems)
    for hasher in hashers.values():
        hasher.update(b"]")
    sections = {key: hasher.hexdigest() for key, hasher in hashers.items()}
    if texts is not None:
        request = "{" + ",".join(f"{json.dumps(key)}:[{','.join(texts[key])}]" for key in sorted(SECTIONS)) + "}"
    else:
        request = canonical_json({"loadFile": {"records": dict(counts), "sha256": sections}})
    return LoadDigest(request, sections, dict(counts), spools)


_SECTION_NAMES = frozenset({*SECTIONS, *LoadFile.model_fields})
_FIELD_OF = {info.alias or name: name for name, info in LoadFile.model_fields.items()}


class _Spools:
    """The records to load, section by section, in batches of ``BATCH``, read back from the spools the reading
    (``read_load``) wrote: the file is not read again, so what is loaded is what was validated and hashed."""

    def __init__(self, digest: LoadDigest) -> None:
        self.digest = digest

    def batches(self, key: str) -> Iterator[tuple[list[Model], Payloads]]:
        """Batches of records, each with its records' canonical JSON (serialised once, for the hash and the load):
        pydantic's JSON parser on the canonical text is the cheap second validation."""
        spool, model = self.digest.spools[key], SECTIONS[key]
        spool.seek(0)  # a retried transaction reads the section again
        batch: list[Model] = []
        payloads: Payloads = {}
        for line in spool:
            record = model.model_validate_json(line)
            payloads[id(record)] = line[:-1].decode()
            batch.append(record)
            if len(batch) == BATCH:
                yield batch, payloads
                batch, payloads = [], {}
        if batch:
            yield batch, payloads


class _Totals:
    """What the batches of one load add up to."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.loaded: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.journal_entries = 0
        self.documents: list[str] = []
        self.seen_accounts: set[str] = set()
        self.repeated: set[str] = set()
        self.moved: set[str] = set()
        self.to_apply: list[str] = []  # new credit memos with applications, applied once every payment is in
        self.applications = 0  # application rows written so far (their ids count on)

    def loader(self, ctx: Context, key: str, batch: list[Model], payloads: Payloads) -> _Loader:
        records: dict[str, Any] = {_FIELD_OF[key]: batch}
        file = LoadFile.model_construct(**records)
        loader = _Loader(ctx, file, payloads)
        loader.seen_accounts, loader.repeated, loader.moved = self.seen_accounts, self.repeated, self.moved
        loader.applications.before = self.applications
        return loader

    def add(self, loader: _Loader) -> bool:
        """Count a batch in; whether it may be written (no problem in it or before it)."""
        self.problems.extend(loader.problems)
        if len(self.problems) >= MAX_PROBLEMS:
            raise Problems(self.problems)
        self.loaded.update(loader.loaded)
        self.unchanged.update(loader.unchanged)
        self.updated.update(loader.updated)
        self.applications += len(loader.applications.rows)
        return not self.problems

    def stop(self) -> None:
        """After a section with problems: the next sections refer to what it did not write, so the load ends."""
        if self.problems:
            raise Problems(self.problems)


#: What identifies a payment moved on, and what it keeps: the operation that first loaded it.
_PAYMENT_KEPT = ("account_number", "number", "operation_id")


def _write(
    ctx: Context,
    loader: _Loader,
    account_rows: list[dict[str, object]],
    payment_rows: list[dict[str, object]],
    *,
    new_docs: bool,
) -> int:
    """Write one batch (inside the load's one transaction); the number of journal entries it posted."""
    periods = [(ctx.open_period(e.date, document=e.document_number, field="date"), e.date) for e in loader.entries]
    conn = ctx.conn
    insert_rows(conn, customer_accounts, account_rows)
    if new_docs:
        insert_documents(conn, list(loader.new_docs.values()), ctx.operation_id)
    # Documents moved on take their new status and content; their lines, the record's too, are the stored ones.
    update_rows(
        conn,
        documents,
        [
            {
                "account_number": d.account_number,
                "number": d.number,
                "status": d.status,
                "content_hash": d.content_hash,
                "payload": d.payload,
            }
            for d in loader.moved_docs.values()
        ],
        set_=("status", "content_hash", "payload"),
        where=("account_number", "number"),
    )
    loader.moved.update(loader.moved_docs)
    insert_rows(conn, payments, payment_rows)
    if loader.moved_payments:  # each takes what a load of its record writes
        taken = tuple(k for k in loader.moved_payments[0] if k not in _PAYMENT_KEPT)
        update_rows(conn, payments, loader.moved_payments, set_=taken, where=("account_number", "number"))
    loader.moved.update(str(row["number"]) for row in loader.moved_payments)
    # Balances of new documents were moved in memory before insert; documents already in the books are updated.
    write_balances(conn, ((account, line) for account, lines in loader.touched.items() for line in lines))
    loader.applications.insert(conn)
    post(conn, loader.entries, periods, ctx.operation_id)
    return len(loader.entries)


def load_books(ctx: Context, digest: LoadDigest) -> LoadResult:
    """Load a file read by ``read_load`` (``digest``), in batches of ``BATCH`` records inside the one transaction.

    Sections are loaded in order (accounts, invoices, debit memos, credit memos, payments, then the credit memos'
    applications), each batch checked against what earlier batches wrote, so a payment finds an invoice of the
    same file and a number repeated anywhere in the file is refused. A problem rolls the whole load back; the
    problems of the section where the first is found are reported together (a batch with a problem is not
    written, the section's other batches are still checked; the next sections would refer to what was not
    written, so the load ends there). Memory holds one batch, whatever the size of the file.
    """
    reread = _Spools(digest)
    totals = _Totals()
    for key in SECTIONS:
        for batch, payloads in reread.batches(key):
            loader = totals.loader(ctx, key, batch, payloads)
            for memo in (*loader.file.debit_memos, *loader.file.credit_memos):  # none without Invoice Settlement
                label = f"{KIND_OF[type(memo)].label} {memo.number}"
                loader.attempt(require_settlement, ctx.settings, memos=True, what=label, document=memo.number)
            account_rows = loader.load_accounts()
            ctx.lock_accounts(loader.accounts)
            loader.load_documents()
            loader.post_documents()
            payment_rows = loader.load_payments()
            totals.to_apply.extend(
                m.number
                for m in loader.file.credit_memos
                if m.applications and (m.number in loader.new_docs or m.number in loader.moved_docs)
            )
            if totals.add(loader):
                totals.journal_entries += _write(ctx, loader, account_rows, payment_rows, new_docs=True)
                totals.documents.extend(loader.new_docs)
        totals.stop()
    if totals.to_apply:
        _apply_credit_memos(ctx, reread, totals)
    if totals.documents:
        totals.problems.extend(item_ids_elsewhere(ctx.conn, ctx.operation_id))
    totals.stop()
    return LoadResult(
        loaded=dict(sorted(totals.loaded.items())),
        updated=dict(sorted(totals.updated.items())),
        unchanged=dict(sorted(totals.unchanged.items())),
        journal_entries=totals.journal_entries,
        documents=sorted(totals.documents),
    )


def item_ids_elsewhere(conn: Connection, operation_id: int) -> list[Problem]:
    """Item ids of the documents an operation wrote that a line of another customer account uses too (item ids are
    unique in the book; within an account the primary key and ``check_item_ids_unused`` keep them so). One pass
    over the item tables, joined on the id (a hash join, or SQLite's automatic index), however large the load."""
    lines = [select(t.c.account_number, t.c.id, t.c.document_number) for t in (document_items, taxation_items)]
    every = union_all(*lines).subquery("every_line")
    written = select(documents.c.account_number, documents.c.number).where(documents.c.operation_id == operation_id)
    mine = (
        union_all(
            *(
                select(t.c.account_number, t.c.id, t.c.document_number).where(
                    tuple_(t.c.account_number, t.c.document_number).in_(written)
                )
                for t in (document_items, taxation_items)
            )
        )
    ).subquery("mine")
    query = (
        select(mine.c.id, mine.c.document_number, every.c.document_number.label("other"))
        .join(every, and_(every.c.id == mine.c.id, every.c.account_number != mine.c.account_number))
        .order_by(mine.c.id, every.c.document_number)
    )
    found: dict[str, str] = {}
    for line_id, _, other in conn.execute(query):
        found.setdefault(line_id, other)
    return [Problem(line_id, "id", f"item id is already used by document {other}") for line_id, other in found.items()]


def _apply_credit_memos(ctx: Context, reread: _Spools, totals: _Totals) -> None:
    """The applications of the file's new credit memos, after every payment (as a load always applied them)."""
    wanted = set(totals.to_apply)
    for batch, payloads in reread.batches("creditMemos"):
        memos = [m for m in batch if isinstance(m, CreditMemo) and m.number in wanted]
        if not memos:
            continue
        loader = totals.loader(ctx, "creditMemos", memos, payloads)  # type: ignore[arg-type]
        loader.new_docs = fetch_documents(ctx.conn, [m.number for m in memos], lock=True)
        ctx.lock_accounts(m.account_number for m in memos)
        loader.apply_credit_memos()
        for memo in loader.new_docs.values():  # written already: their lines' unapplied amounts are updated
            loader.touched.setdefault(memo.account_number, []).extend(memo.lines())
        if totals.add(loader):
            totals.journal_entries += _write(ctx, loader, [], [], new_docs=False)
