"""``subledger list invoices|debit-memos|credit-memos|payments`` and ``subledger report aging|write-offs|reversals``.

Lists filter by account, status, open balance, age, period and source; reports carry the figures they tie to (the
receivable control balance, the journal). Queries are in ``subledger.reports``.
"""

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from subledger.cli.common import STATE, CommandError, app, engine, option_param, out, print_json, print_table, register

list_app = typer.Typer(help="List documents and payments, with filters.", no_args_is_help=True, rich_markup_mode=None)
report_app = typer.Typer(
    help="Reports: receivable aging, write-off and reversal registers.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(list_app, name="list")
app.add_typer(report_app, name="report")

Account = Annotated[str | None, typer.Option("--account", metavar="NUMBER", help="Only this customer account.")]
#: The statuses are those of ``models.documents`` (named here, not imported: pydantic is not loaded for --help).
Status = Annotated[
    str | None, typer.Option("--status", metavar="STATUS", help="Only this status (Draft, Posted, Canceled).")
]
PaymentStatus = Annotated[
    str | None,
    typer.Option("--status", metavar="STATUS", help="Only this status (Draft, Processing, Processed, Canceled)."),
]
Open = Annotated[bool, typer.Option("--open", help="Only those with an open balance (unapplied amount).")]
OlderThan = Annotated[
    int | None,
    typer.Option("--older-than", metavar="DAYS", min=0, help="Only those dated more than DAYS before --as-of."),
]
AsOf = Annotated[str | None, typer.Option("--as-of", metavar="DATE", help="The day ages count to (default today).")]
Period = Annotated[str | None, typer.Option("--period", metavar="PERIOD", help="Only those dated in this period.")]
Source = Annotated[
    str | None,
    typer.Option("--source", metavar="SOURCE", help="Only those of this source (BillRun, API, WriteOff, Reversal)."),
]


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    from subledger.models.base import iso_date  # pydantic: not imported for --help

    try:
        return iso_date(value)
    except ValueError:
        raise CommandError(f"{option} takes a date YYYY-MM-DD, got {value!r}", code="usage", exit_code=2) from None


def _show(query: Callable[[Any], Any], table: Callable[[Any], None]) -> None:
    """Run ``query`` on a connection and print what it gives: as JSON under ``--json``, else as ``table`` lays it
    out."""
    with engine().connect() as conn:
        found = query(conn)
    if STATE.json:
        print_json(found)
    else:
        table(found)


def _cells(rows: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    """The table cells of ``rows``: each row's values at ``keys``, a value the row leaves out (no reason code) empty."""
    return [tuple(r.get(key, "") for key in keys) for r in rows]


#: The options of every list (``reports.ListFilters``), in the order help shows them; the document lists add
#: ``--source``.
FILTERS = (
    option_param("account", Account),
    option_param("status", Status),
    option_param("open_only", Open, False),
    option_param("older_than", OlderThan),
    option_param("as_of", AsOf),
    option_param("period", Period),
)


def _known_status(which: str, status: str | None) -> None:
    """A status no document (payment) can have is a usage mistake, typically its case (``posted``): the statuses
    are named, as typer names the choices of an option."""
    from typing import get_args

    from subledger.models.documents import DocumentStatus, PaymentStatus

    known = get_args(PaymentStatus if which == "payments" else DocumentStatus)
    if status is not None and status not in known:
        raise typer.BadParameter(
            f"no {which.removesuffix('s').replace('-', ' ')} has status {status!r}; choose from {', '.join(known)}",
            param_hint="'--status'",
        )


def _register_list(which: str, doc: str, table: Callable[[list[dict[str, Any]]], None]) -> None:
    """``subledger list WHICH``: the rows ``reports.list_payments`` or ``reports.list_documents`` gives for the
    options, as JSON or as ``table`` prints them."""

    def list_rows(**filters: Any) -> None:
        from subledger import reports

        filters["as_of"] = _date(filters.pop("as_of"), "--as-of")
        _known_status(which, filters["status"])

        def rows(conn: Any) -> Any:
            # A filter naming what the book cannot hold is a mistake, not an empty list (as --period is).
            if filters["account"] is not None:
                reports.known_account(conn, filters["account"])
            if which == "payments":
                return reports.list_payments(conn, **filters)
            return reports.list_documents(conn, which, **filters)

        _show(rows, table)

    if which == "payments":
        options = tuple(option_param("status", PaymentStatus) if p.name == "status" else p for p in FILTERS)
    else:
        options = (*FILTERS, option_param("source", Source))
    list_rows.__signature__ = inspect.Signature(list(options))  # type: ignore[attr-defined]
    list_rows.__doc__ = doc
    register(list_app, which, table=True)(list_rows)


def _document_table(balance: str) -> Callable[[list[dict[str, Any]]], None]:
    def table(rows: list[dict[str, Any]]) -> None:
        print_table(
            ("number", "account", "date", "due", "status", "amount", balance, "cur", "age", "source", "reason"),
            _cells(
                rows,
                "number",
                "accountNumber",
                "date",
                "dueDate",
                "status",
                "amount",
                balance,
                "currency",
                "ageDays",
                "source",
                "reasonCode",
            ),
        )

    return table


def _payment_table(rows: list[dict[str, Any]]) -> None:
    print_table(
        ("number", "account", "date", "type", "status", "amount", "unapplied", "cur", "age"),
        _cells(
            rows,
            "number",
            "accountNumber",
            "date",
            "type",
            "status",
            "amount",
            "unappliedAmount",
            "currency",
            "ageDays",
        ),
    )


for which, balance, doc in (
    ("invoices", "balance", "Invoices with their open balances, oldest first."),
    ("debit-memos", "balance", "Debit memos with their open balances, oldest first."),
    ("credit-memos", "unappliedAmount", "Credit memos with their unapplied amounts, oldest first."),
):
    _register_list(which, doc, _document_table(balance))
_register_list("payments", "Payments with their unapplied amounts, oldest first.", _payment_table)


@register(report_app, "aging", table=True)
def aging(as_of: AsOf = None) -> None:
    """What customers owe by days past due (due date, else document date), per account; the total per currency
    beside the receivable control balance (subledger and journal) it ties to."""
    from subledger import reports

    day = _date(as_of, "--as-of") or dt.date.today()
    _show(lambda conn: reports.aging(conn, day), _aging_tables)


def _aging_tables(report: dict[str, Any]) -> None:
    buckets = report["buckets"]
    print_table(
        ("account", "name", "cur", *buckets, "total"),
        [
            (a["accountNumber"], a["accountName"], a["currency"], *(a[b] for b in buckets), a["total"])
            for a in report["accounts"]
        ],
        title=f"Receivable aging as of {report['asOf']}",
    )
    out()
    print_table(
        ("cur", "aging", "receivable (subledger)", "receivable (journal)", "ties"),
        [
            (t["currency"], t["aging"], t["receivableSubledger"], t["receivableJournal"], "yes" if t["ties"] else "NO")
            for t in report["totals"]
        ],
    )


@register(report_app, "write-offs", table=True)
def write_offs(period: Annotated[str, typer.Option("--period", metavar="PERIOD", help="Accounting period.")]) -> None:
    """The write-off register of a period: each write-off, totals by revenue impact, reason code and accounting
    code, and the total beside the journal's."""
    from subledger import reports

    _show(lambda conn: reports.write_offs(conn, period), lambda report: _write_off_tables(report, period))


def _write_off_tables(report: dict[str, Any], period: str) -> None:
    # A write-off by invoice item adjustments has no memo: its adjustments stand where the memo would.
    written_off = [
        r | {"memoNumber": ", ".join(r["adjustmentNumbers"]), "memoKind": "InvoiceItemAdjustment"}
        if "adjustmentNumbers" in r
        else r
        for r in report["writeOffs"]
    ]
    print_table(
        ("memo", "kind", "document", "account", "date", "amount", "cur", "revenue", "reason", "code", "comment"),
        _cells(
            written_off,
            "memoNumber",
            "memoKind",
            "documentNumber",
            "accountNumber",
            "date",
            "amount",
            "currency",
            "revenueImpacting",
            "reasonCode",
            "nonRevenueWriteOffAccountingCode",
            "comment",
        ),
        title=f"Write-offs of {period}",
    )
    for title, key, rows in (
        ("By revenue impact", "revenueImpacting", report["byRevenueImpact"]),
        ("By reason code", "reasonCode", report["byReasonCode"]),
        ("By accounting code (the write-offs' journal lines)", "accountingCode", report["byAccountingCode"]),
    ):
        out()
        print_table((key, "cur", "amount"), [(r[key], r["currency"], r["amount"]) for r in rows], title=title)
    out()
    print_table(
        ("cur", "write-offs", "journal", "ties"),
        [(t["currency"], t["amount"], t["journal"], "yes" if t["ties"] else "NO") for t in report["totals"]],
        title="Totals",
    )


@register(report_app, "reversals", table=True)
def reversals(period: Annotated[str, typer.Option("--period", metavar="PERIOD", help="Accounting period.")]) -> None:
    """The reversal register of a period: each reversal memo and the document it reversed."""
    from subledger import reports

    _show(lambda conn: reports.reversals(conn, period), lambda report: _reversal_tables(report, period))


def _reversal_tables(report: dict[str, Any], period: str) -> None:
    print_table(
        ("memo", "kind", "reversed", "of kind", "account", "date", "amount", "cur", "reason", "comment"),
        _cells(
            report["reversals"],
            "memoNumber",
            "memoKind",
            "documentNumber",
            "documentKind",
            "accountNumber",
            "date",
            "amount",
            "currency",
            "reasonCode",
            "comment",
        ),
        title=f"Reversals of {period}",
    )
    out()
    print_table(
        ("reversed", "cur", "count", "amount"),
        [(t["documentKind"], t["currency"], t["count"], t["amount"]) for t in report["totals"]],
    )
