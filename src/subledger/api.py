"""``Books``: the one Python facade over the operations.

    books = Books("sqlite:///books.db")
    books.init()
    books.load(Path("invoices.json"))
    books.journal(document="INV00000001")

Every write method is one operation (one transaction, recorded, all or nothing) and accepts an idempotency key.
Inputs are validated by the pydantic models before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from subledger import queries, reports
from subledger.audit import AuditRecord, Outcome, audit_trail
from subledger.checks import CheckReport, run_checks
from subledger.context import Context
from subledger.errors import ExportFailed, NotFound, Problems, SubledgerError
from subledger.export import gl
from subledger.export.beancount import export_beancount
from subledger.models.adjustments import (
    AdjustmentRequest,
    AdjustmentResult,
    AdjustmentView,
    AdjustmentWriteOffReport,
    BulkAdjustmentWriteOff,
    WriteOffByAdjustments,
)
from subledger.models.apply import (
    ApplyResult,
    CreditMemoApplyRequest,
    CreditMemoUnapplyRequest,
    PaymentApplyRequest,
    PaymentUnapplyRequest,
)
from subledger.models.base import Model
from subledger.models.documents import LoadFile
from subledger.models.errors import validation_problems
from subledger.models.journal_run import JournalEntryBasicInformation
from subledger.models.jsonio import read_object, refuse_nul
from subledger.models.loadstream import load_source
from subledger.models.recovery import RecoveryResult, WriteOffRecoveryRequest
from subledger.models.refund import CreditMemoRefundRequest, RefundCancelRequest, RefundResult
from subledger.models.reversal import CreditMemoReversalRequest, InvoiceReversalRequest, ReversalResult
from subledger.models.views import JournalEntryView, PeriodView
from subledger.models.writeoff import (
    BulkWriteOff,
    CreditMemoWriteOffRequest,
    WriteOffRequest,
    WriteOffResult,
)
from subledger.operations import actors as actor_ops
from subledger.operations import journal_runs as jr
from subledger.operations import periods as period_ops
from subledger.operations.actors import ActorsResult, ActorView, read_actors, resolve_actor, views
from subledger.operations.adjustments import create_adjustments, list_adjustments, write_off_by_adjustments
from subledger.operations.apply import apply_credit_memo, apply_payment, unapply_credit_memo, unapply_payment
from subledger.operations.base import audited, noting_replays, run_bulk, run_operation
from subledger.operations.load import LoadDigest, LoadResult, load_books, read_load
from subledger.operations.recovery import recover_write_off
from subledger.operations.refund import cancel_refund, refund_credit_memo
from subledger.operations.refund import view as refund_view
from subledger.operations.reversal import reverse_credit_memo, reverse_invoice
from subledger.operations.setup import InitResult, init_books
from subledger.operations.writeoff import BulkReport, bulk_write_off, run_write_off
from subledger.permissions import Actor, read_actors_file
from subledger.posting import DocumentKind
from subledger.settings import BookSettings
from subledger.storage.db import make_engine, snapshot

ROOT = Path(__file__).resolve().parents[2]
#: The chart of accounts and fiscal calendar a book is set up with unless ``init`` is given others: package data, so
#: that an installed package (not only a checkout) can ``init``; the checkout's ``chart_of_accounts/`` and ``periods/``
#: link to them.
DEFAULT_CHART = Path(__file__).parent / "defaults" / "chart_of_accounts"
DEFAULT_PERIODS = Path(__file__).parent / "defaults" / "periods"

M = TypeVar("M", bound=Model)
BulkTask = TypeVar("BulkTask", BulkWriteOff, BulkAdjustmentWriteOff)
R = TypeVar("R", bound=BaseModel)


def parse(model: type[Any], data: Any, *, document: str | None = None, what: str = "request body") -> Any:
    """Validate input (a path, JSON bytes or text, a dict, or a model) into ``model``; one error per problem.

    JSON is read by ``models.jsonio`` (duplicate keys, encoding and nesting refused there), then validated."""
    if isinstance(data, model):
        return data
    raw: Any = data
    if isinstance(data, Path | bytes | str):
        raw = read_object(data, what=what, document=document)
    else:
        refuse_nul(raw, document=document, what=what)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Problems(validation_problems(exc, raw, document=document)) from None


class Books:
    def __init__(self, url: str | None = None, *, actor: str | None = None, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        self._actor_name = actor

    @property
    def actor(self) -> Actor:
        """Who runs the operations, with the permissions the book gives it (``permissions``)."""
        with self.engine.connect() as conn:
            return resolve_actor(conn, self._actor_name)

    def as_actor(self, actor: str) -> Books:
        return Books(engine=self.engine, actor=actor)

    # --- set-up ----------------------------------------------------------------------------------------------

    @audited("init")
    def init(
        self,
        *,
        chart: Path = DEFAULT_CHART,
        periods: Path = DEFAULT_PERIODS,
        settings: BookSettings | None = None,
    ) -> InitResult:
        """Create the book (its first actor becomes the administrator) or refresh it (Set Up Books)."""
        return init_books(self.engine, self._actor_name, chart, periods, settings)

    # --- actors ----------------------------------------------------------------------------------------------

    def actors(self) -> list[ActorView]:
        """Every actor of the book and the permissions it holds."""
        with self.engine.connect() as conn:
            return views(read_actors(conn))

    def _actor_operation(
        self, kind: str, request: dict[str, Any], result_type: type[R], body: Callable[[Context], R]
    ) -> R:
        return run_operation(
            self.engine,
            kind=kind,
            actor=self.actor,
            request=request,
            result_type=result_type,
            body=body,
            document_number=request.get("name"),
        )

    @audited("actor-grant")
    def grant(self, name: str, permissions: Sequence[str]) -> ActorView:
        """Grant permissions to an actor, adding it if new (Manage Actors)."""
        actor_ops.valid_name(name)
        request = {"name": name, "permissions": sorted(permissions)}
        return self._actor_operation(
            "actor-grant", request, ActorView, lambda ctx: actor_ops.grant(ctx, name, permissions)
        )

    @audited("actor-revoke")
    def revoke(self, name: str, permissions: Sequence[str]) -> ActorView:
        """Revoke permissions from an actor (Manage Actors; some actor always keeps Manage Actors)."""
        actor_ops.valid_name(name)
        request = {"name": name, "permissions": sorted(permissions)}
        return self._actor_operation(
            "actor-revoke", request, ActorView, lambda ctx: actor_ops.revoke(ctx, name, permissions)
        )

    @audited("actor-import")
    def import_actors(self, path: Path) -> ActorsResult:
        """Give each actor of a TOML actors file exactly the permissions it lists (Manage Actors)."""
        wanted = read_actors_file(path)
        request = {"actors": {name: sorted(p) for name, p in sorted(wanted.items())}}
        return self._actor_operation(
            "actor-import", request, ActorsResult, lambda ctx: actor_ops.set_actors(ctx, wanted)
        )

    # --- operations ------------------------------------------------------------------------------------------

    def _document_operation(
        self,
        kind: str,
        number_field: str,
        number: str,
        model: type[M],
        request: Any,
        result_type: type[R],
        operation: Callable[[Context, str, M], R],
        idempotency_key: str | None,
    ) -> R:
        """One operation on one document: the body validated, then run and recorded as one transaction."""
        body: M = parse(model, {} if request is None else request, document=number)
        return run_operation(
            self.engine,
            kind=kind,
            actor=self.actor,
            request={number_field: number, **body.wire()},
            result_type=result_type,
            body=lambda ctx: operation(ctx, number, body),
            document_number=number,
            idempotency_key=idempotency_key,
        )

    @audited("load")
    def load(
        self, data: LoadFile | Path | bytes | str | dict[str, Any], *, idempotency_key: str | None = None
    ) -> LoadResult:
        digests: list[LoadDigest] = []

        def prepare() -> tuple[None, str, Callable[[Context], LoadResult]]:
            # Read once, never whole: validated and hashed here (each record's canonical JSON spooled to a temporary
            # file), loaded from the spool in batches inside the transaction.
            source = load_source(data)
            digest = read_load(source)
            digests.append(digest)
            return None, digest.request_json, lambda ctx: load_books(ctx, digest)

        try:
            return run_bulk(
                self.engine,
                kind="load",
                actor=self.actor,
                prepare=prepare,
                result_type=LoadResult,
                written=lambda result: sum(result.loaded.values()),
                idempotency_key=idempotency_key,
            )
        finally:
            for digest in digests:
                digest.close()

    @audited("reverse-invoice")
    def reverse_invoice(
        self,
        number: str,
        request: InvoiceReversalRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ReversalResult:
        """Reverse a posted invoice with a mirrored credit memo (and the credit memos of its charges)."""
        return self._document_operation(
            "reverse-invoice",
            "invoiceNumber",
            number,
            InvoiceReversalRequest,
            request,
            ReversalResult,
            reverse_invoice,
            idempotency_key,
        )

    @audited("reverse-credit-memo")
    def reverse_credit_memo(
        self,
        number: str,
        request: CreditMemoReversalRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ReversalResult:
        """Reverse a posted credit memo with a mirrored debit memo (and its billing run's invoice)."""
        return self._document_operation(
            "reverse-credit-memo",
            "creditMemoNumber",
            number,
            CreditMemoReversalRequest,
            request,
            ReversalResult,
            reverse_credit_memo,
            idempotency_key,
        )

    # --- applications ----------------------------------------------------------------------------------------

    @audited("apply-credit-memo")
    def apply_credit_memo(
        self,
        number: str,
        request: CreditMemoApplyRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ApplyResult:
        """Apply a posted credit memo's unapplied amount to invoices and debit memos (item by item, or FIFO)."""
        return self._document_operation(
            "apply-credit-memo",
            "creditMemoNumber",
            number,
            CreditMemoApplyRequest,
            request,
            ApplyResult,
            apply_credit_memo,
            idempotency_key,
        )

    @audited("unapply-credit-memo")
    def unapply_credit_memo(
        self,
        number: str,
        request: CreditMemoUnapplyRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ApplyResult:
        """Return applied amounts of a credit memo to its unapplied amount (never a reversed memo's)."""
        return self._document_operation(
            "unapply-credit-memo",
            "creditMemoNumber",
            number,
            CreditMemoUnapplyRequest,
            request,
            ApplyResult,
            unapply_credit_memo,
            idempotency_key,
        )

    @audited("apply-payment")
    def apply_payment(
        self,
        number: str,
        request: PaymentApplyRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ApplyResult:
        """Apply a processed payment's unapplied amount to invoices and debit memos (item by item, or FIFO)."""
        return self._document_operation(
            "apply-payment",
            "paymentNumber",
            number,
            PaymentApplyRequest,
            request,
            ApplyResult,
            apply_payment,
            idempotency_key,
        )

    @audited("unapply-payment")
    def unapply_payment(
        self,
        number: str,
        request: PaymentUnapplyRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ApplyResult:
        """Return amounts a payment applied to its unapplied amount (items given, or oldest applications first)."""
        return self._document_operation(
            "unapply-payment",
            "paymentNumber",
            number,
            PaymentUnapplyRequest,
            request,
            ApplyResult,
            unapply_payment,
            idempotency_key,
        )

    @audited("refund-credit-memo")
    def refund_credit_memo(
        self,
        number: str,
        request: CreditMemoRefundRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> RefundResult:
        """Refund part of a credit memo's unapplied amount to the customer (items given, or lines in order)."""
        return self._document_operation(
            "refund-credit-memo",
            "creditMemoNumber",
            number,
            CreditMemoRefundRequest,
            request,
            RefundResult,
            refund_credit_memo,
            idempotency_key,
        )

    @audited("cancel-refund")
    def cancel_refund(
        self,
        number: str,
        request: RefundCancelRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RefundResult:
        """Cancel a processed refund: the amounts go back to the credit memo, its mirror posts on the cancel date."""
        return self._document_operation(
            "cancel-refund",
            "refundNumber",
            number,
            RefundCancelRequest,
            request,
            RefundResult,
            cancel_refund,
            idempotency_key,
        )

    @audited("recover-invoice-write-off")
    def recover_invoice_write_off(
        self,
        number: str,
        request: WriteOffRecoveryRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RecoveryResult:
        """Recover what an invoice's write-off (its credit memo ``number``) wrote off: a debit memo with the same
        codes, open for the customer's payment (all that is left, an amount, or the lines given)."""
        return self._document_operation(
            "recover-invoice-write-off",
            "writeOffNumber",
            number,
            WriteOffRecoveryRequest,
            request,
            RecoveryResult,
            lambda ctx, n, body: recover_write_off(ctx, DocumentKind.INVOICE, n, body),
            idempotency_key,
        )

    @audited("recover-debit-memo-write-off")
    def recover_debit_memo_write_off(
        self,
        number: str,
        request: WriteOffRecoveryRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RecoveryResult:
        """Recover what a debit memo's write-off (its credit memo ``number``) wrote off, as for an invoice."""
        return self._document_operation(
            "recover-debit-memo-write-off",
            "writeOffNumber",
            number,
            WriteOffRecoveryRequest,
            request,
            RecoveryResult,
            lambda ctx, n, body: recover_write_off(ctx, DocumentKind.DEBIT_MEMO, n, body),
            idempotency_key,
        )

    @audited("adjustment")
    def adjust_invoice_items(
        self,
        request: AdjustmentRequest | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> AdjustmentResult:
        """Create invoice item adjustments (books without Invoice Settlement), together in one transaction."""
        body: AdjustmentRequest = parse(AdjustmentRequest, request)
        return run_operation(
            self.engine,
            kind="adjustment",
            actor=self.actor,
            request=body,
            result_type=AdjustmentResult,
            body=lambda ctx: create_adjustments(ctx, body.adjustments),
            idempotency_key=idempotency_key,
        )

    @audited("write-off-adjustments")
    def write_off_by_adjustments(
        self,
        invoices: Sequence[str],
        settings: WriteOffByAdjustments | Path | bytes | str | dict[str, Any],
        *,
        idempotency_key: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> AdjustmentWriteOffReport:
        """The bulk write-off task in a book without Invoice Settlement: each invoice written off by adjustments."""
        task: WriteOffByAdjustments = parse(WriteOffByAdjustments, settings)
        return write_off_by_adjustments(
            self.engine, self.actor, invoices, task, idempotency_key=idempotency_key, progress=progress
        )

    # --- write-offs ------------------------------------------------------------------------------------------

    def _write_off(
        self,
        kind: DocumentKind,
        number: str,
        model: type[WriteOffRequest] | type[CreditMemoWriteOffRequest],
        request: Any,
        idempotency_key: str | None,
    ) -> WriteOffResult:
        body = parse(model, {} if request is None else request, document=number)
        return run_write_off(self.engine, self.actor, kind, number, body, idempotency_key=idempotency_key)

    @audited("write-off-invoice")
    def write_off_invoice(
        self,
        number: str,
        request: WriteOffRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> WriteOffResult:
        """Write off an invoice (header level, or the lines given) with a credit memo applied back to it."""
        return self._write_off(DocumentKind.INVOICE, number, WriteOffRequest, request, idempotency_key)

    @audited("write-off-debit-memo")
    def write_off_debit_memo(
        self,
        number: str,
        request: WriteOffRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> WriteOffResult:
        """Write off a debit memo (needs Enhanced Write-off) with a credit memo applied back to it."""
        return self._write_off(DocumentKind.DEBIT_MEMO, number, WriteOffRequest, request, idempotency_key)

    @audited("write-off-credit-memo")
    def write_off_credit_memo(
        self,
        number: str,
        request: CreditMemoWriteOffRequest | Path | bytes | str | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> WriteOffResult:
        """Write off a fully unapplied credit memo: a debit memo mirroring it, the credit memo applied to it."""
        return self._write_off(DocumentKind.CREDIT_MEMO, number, CreditMemoWriteOffRequest, request, idempotency_key)

    @audited("write-off-bulk")
    def write_off_bulk(
        self,
        data: BulkWriteOff | Path | bytes | str | dict[str, Any] | None = None,
        *,
        documents: Sequence[str] | None = None,
        settings: WriteOffRequest | dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> BulkReport:
        """The bulk write-off task: ``data`` (the ``--from`` file), or ``documents`` with one ``settings`` body.

        Each document is its own operation; refusals are reported per document and the rest go on. A book without
        Invoice Settlement writes its invoices off by invoice item adjustments.
        """

        def read(model: type[BulkTask], listed: str) -> BulkTask:
            raw = data if data is not None else {listed: list(documents or []), "settings": settings or {}}
            task: BulkTask = parse(model, raw)
            return task

        return bulk_write_off(self.engine, self.actor, read, idempotency_key=idempotency_key, progress=progress)

    # --- reading ---------------------------------------------------------------------------------------------

    def show(self, kind: str, number: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return queries.show_document(conn, kind, number)

    def payments(
        self, *, account: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Payments by date, then number (of one customer account, or all), ``offset`` and ``limit`` to page."""
        with self.engine.connect() as conn:
            return reports.list_payments(conn, account=account, offset=offset, limit=limit)

    def payment(self, number: str) -> dict[str, Any]:
        """One payment as ``payments`` lists it."""
        with self.engine.connect() as conn:
            found = reports.payment(conn, number)
        if found is None:
            raise NotFound(f"no payment {number}", document=number)
        return found

    def refund(self, number: str) -> RefundResult:
        """A credit memo refund: its amounts, status, and journal entries (with its cancellation's)."""
        with self.engine.connect() as conn:
            return refund_view(conn, number)

    def journal(self, *, document: str | None = None, period: str | None = None) -> list[JournalEntryView]:
        with self.engine.connect() as conn:
            return list(queries.journal(conn, document=document, period=period))

    def adjustments(self, *, invoice: str | None = None) -> list[AdjustmentView]:
        """Invoice item adjustments, of one invoice or all."""
        with self.engine.connect() as conn:
            return list_adjustments(conn, invoice=invoice)

    def export_beancount(self, out: Path, *, fava_extension: bool = False) -> list[Path]:
        # One snapshot for the whole export: each period's entries, its balance assertions and the closed periods'
        # fingerprints read the same book, whatever is written meanwhile (PostgreSQL reads each statement afresh).
        with snapshot(self.engine) as conn:
            return export_beancount(conn, out, fava_extension=fava_extension)

    def periods(self) -> list[PeriodView]:
        with self.engine.connect() as conn:
            return queries.periods(conn)

    # --- periods, close checks, GL export (issue 5) ----------------------------------------------------------

    def _period_operation(
        self,
        kind: str,
        name: str,
        body: Callable[[Context], period_ops.PeriodTransition],
        idempotency_key: str | None,
        **request: str,
    ) -> period_ops.PeriodTransition:
        return run_operation(
            self.engine,
            kind=kind,
            actor=self.actor,
            request={"period": name, **request},
            result_type=period_ops.PeriodTransition,
            body=body,
            document_number=name,
            idempotency_key=idempotency_key,
            exclusive_periods=True,
        )

    @audited("period-pending-close")
    def pending_close(self, name: str, *, idempotency_key: str | None = None) -> period_ops.PeriodTransition:
        """Set an Open period to Pending Close (Manage Close Process; earlier periods Closed)."""
        return self._period_operation(
            "period-pending-close", name, lambda ctx: period_ops.pending_close(ctx, name), idempotency_key
        )

    @audited("period-close")
    def close_period(self, name: str, *, idempotency_key: str | None = None) -> period_ops.PeriodTransition:
        """Close a period: earlier periods Closed, every close check passing; records its fingerprint."""
        return self._period_operation("period-close", name, lambda ctx: period_ops.close(ctx, name), idempotency_key)

    def close_periods_through(
        self,
        last: str,
        *,
        idempotency_key: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> period_ops.ClosedThrough:
        """Close every open period up to ``last``, in order, each checked; stop at the first refusal."""
        with self.engine.connect() as conn:
            names = [(p.name, p.status) for p in queries.periods(conn)]

        def close(name: str, key: str | None) -> period_ops.PeriodTransition:
            return self.close_period(name, idempotency_key=key)

        return period_ops.close_through(names, last, close, idempotency_key=idempotency_key, progress=progress)

    @audited("period-reopen")
    def reopen_period(
        self, name: str, reason: str, *, idempotency_key: str | None = None
    ) -> period_ops.PeriodTransition:
        """Reopen the latest closed period, with a recorded reason (Reopen Accounting Period)."""
        return self._period_operation(
            "period-reopen", name, lambda ctx: period_ops.reopen(ctx, name, reason), idempotency_key, reason=reason
        )

    def check(self, period: str | None = None, *, skip: Sequence[str] = ()) -> CheckReport:
        """Run every close check but those in ``skip`` (on one period, or the whole book) and report them all."""
        with snapshot(self.engine) as conn:
            return run_checks(conn, period, skip=skip)

    # --- journal runs and GL files (operations.journal_runs; files rendered by export.gl) -----------------------

    def _run_op(
        self,
        kind: str,
        number: str,
        body: Callable[[Context], jr.JournalRunView],
        idempotency_key: str | None,
        **extra: str,
    ) -> jr.JournalRunView:
        return run_operation(
            self.engine,
            kind=kind,
            actor=self.actor,
            request={"run": number, **extra},
            result_type=jr.JournalRunView,
            body=body,
            document_number=number,
            idempotency_key=idempotency_key,
        )

    @audited("journal-run-create")
    def create_journal_run(self, period: str, *, idempotency_key: str | None = None) -> jr.JournalRunResult:
        """Take the period's journal entries that are in no run yet into a new run (Processing)."""
        return run_operation(
            self.engine,
            kind="journal-run-create",
            actor=self.actor,
            request={"period": period},
            result_type=jr.JournalRunResult,
            body=lambda ctx: jr.create(ctx, period),
            document_number=period,
            idempotency_key=idempotency_key,
        )

    @audited("journal-run-confirm")
    def confirm_journal_run(self, number: str, *, idempotency_key: str | None = None) -> jr.JournalRunView:
        """The ERP accepted the run: Completed, its documents transferred to accounting."""
        return self._run_op("journal-run-confirm", number, lambda ctx: jr.confirm(ctx, number), idempotency_key)

    @audited("journal-run-error")
    def fail_journal_run(self, number: str, reason: str, *, idempotency_key: str | None = None) -> jr.JournalRunView:
        """The ERP rejected the run: Error, with the reason."""
        return self._run_op(
            "journal-run-error", number, lambda ctx: jr.fail(ctx, number, reason), idempotency_key, reason=reason
        )

    @audited("journal-entry-transfer")
    def transfer_journal_entry(
        self,
        number: str,
        request: JournalEntryBasicInformation | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> jr.JournalRunView:
        """Set a summary journal entry's transferredToAccounting: the transfer of its whole run (Yes confirms it,
        Error fails it)."""
        body: JournalEntryBasicInformation = parse(JournalEntryBasicInformation, request, document=number)
        if body.transferred_to_accounting == "Processing":  # changes nothing: a read, no operation
            with self.engine.connect() as conn:
                return jr.still_processing(conn, number)
        return run_operation(
            self.engine,
            kind="journal-entry-transfer",
            actor=self.actor,
            request={"journalEntry": number, **body.wire()},
            result_type=jr.JournalRunView,
            body=lambda ctx: jr.transfer_entry(ctx, number, body),
            document_number=number,
            idempotency_key=idempotency_key,
        )

    @audited("journal-run-cancel")
    def cancel_journal_run(
        self, number: str, reason: str | None = None, *, idempotency_key: str | None = None
    ) -> jr.JournalRunView:
        """Cancel a run that is not confirmed: its entries go to the next run."""
        return self._run_op(
            "journal-run-cancel",
            number,
            lambda ctx: jr.cancel(ctx, number, reason),
            idempotency_key,
            **({"reason": reason} if reason else {}),
        )

    def journal_runs(self, period: str | None = None) -> list[jr.JournalRunView]:
        """Journal runs, oldest first."""
        with self.engine.connect() as conn:
            return jr.list_runs(conn, period)

    def journal_run(self, number: str) -> jr.JournalRunView:
        """One journal run with its summary journal entries."""
        with self.engine.connect() as conn:
            return jr.view(conn, number)

    def journal_entry(self, number: str) -> jr.SummaryEntryView:
        """One summary journal entry of a run (``JR-00000001-001``), with its run's transfer status."""
        with self.engine.connect() as conn:
            return jr.summary_entry(conn, number)

    def render_gl(
        self,
        run: str,
        out: Path,
        *,
        format: str = "csv",
        summary: bool = False,
        profile: Path | gl.Profile | None = None,
        force: bool = False,
    ) -> jr.GLFiles:
        """Write a journal run's GL files (checked by the format's validator first); records nothing."""
        loaded = profile if isinstance(profile, gl.Profile) else gl.load_profile(profile)
        with self.engine.connect() as conn:
            staged, result = jr.stage_run(conn, run, format, out, summary=summary, profile=loaded, force=force)
        staged.commit()
        return result

    def check_gl(self, path: Path, *, format: str, profile: Path | gl.Profile | None = None) -> gl.Checked:
        """Check an existing GL file against its importer's rules (accounts as the profile maps this chart)."""
        loaded = profile if isinstance(profile, gl.Profile) else gl.load_profile(profile)
        with self.engine.connect() as conn:
            accounts = jr.chart_accounts(conn)
        return gl.check_file(path, format, profile=loaded, accounts=accounts)

    @audited("export-gl")
    def export_gl(
        self,
        period: str,
        out: Path,
        *,
        format: str = "csv",
        summary: bool = False,
        profile: Path | gl.Profile | None = None,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> jr.GLFiles:
        """``create_journal_run`` and ``render_gl`` in one: the files are checked and written before the run
        commits, and put in place only after it has (a failure records nothing and leaves no file)."""
        loaded = profile if isinstance(profile, gl.Profile) else gl.load_profile(profile)
        staged: list[gl.Staged] = []
        mode = "summary" if summary else "detail"

        def body(ctx: Context) -> jr.GLFiles:
            for earlier in staged:  # a retried transaction renders again
                earlier.discard()
            staged.clear()
            files, result = jr.create_and_stage(ctx, period, format, out, summary=summary, profile=loaded, force=force)
            if files is not None:
                staged.append(files)
            return result

        try:
            with noting_replays() as replays:
                result = run_operation(
                    self.engine,
                    kind="export-gl",
                    actor=self.actor,
                    # The profile is part of the request: the same key with another profile is another request
                    # (refused), never a replay answering with, or a re-render writing, files of the other profile.
                    request={
                        "period": period,
                        "format": format,
                        "mode": mode,
                        "out": str(out),
                        **({"profile": loaded.identity} if loaded.identity is not None else {}),
                    },
                    result_type=jr.GLFiles,
                    body=body,
                    document_number=period,
                    idempotency_key=idempotency_key,
                )
            if replays and result.run is not None and not all(Path(f).exists() for f in result.files):
                # The first call recorded the run, and its files never reached their place (refused there, or the
                # process killed): the replay writes them (a run renders the same bytes every time).
                return self.render_gl(result.run, out, format=format, summary=summary, profile=loaded, force=force)
            try:
                for files in staged:
                    files.commit()
            except SubledgerError as exc:
                raise ExportFailed(
                    f"journal run {result.run} is recorded but its files could not be put in place ({exc.rule}); "
                    f"write them with --run {result.run} (or the same idempotency key again)",
                    document=str(out),
                    field="out",
                ) from exc
        finally:
            for files in staged:
                files.discard()
        return result

    def audit(
        self, *, outcome: Outcome | None = None, actor: str | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Every operation, accepted or refused (or failed), oldest first."""
        with self.engine.connect() as conn:
            return audit_trail(conn, outcome=outcome, actor=actor, limit=limit)
