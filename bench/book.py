"""Books of realistic shape for the benchmarks, generated from a seed so every run measures the same work.

A book is customer accounts (about ten invoices each, mostly USD, some EUR and GBP), invoices of 2 to 5 items with
tax on most items and a discount on some invoices, and processed payments that settle part of about half the
invoices. ``load_file`` gives it as the reference product's load file (what ``Books.load`` reads);
``direct_book`` posts the same shape straight into rows with the package's own posting rules, hash chain and row
builders, for books too large to push through the operations first (see ``bench/README.md``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from subledger.journal import Entry, EntryBuilder, Tag, chain_rows
from subledger.money import quantize
from subledger.operations.documents import posting_entries
from subledger.operations.settlement import Applications, PaymentSource, fifo
from subledger.posting import DocumentKind, Role, TransactionType
from subledger.state import DocumentState, ItemLine, TaxLine, document_rows

YEAR = 2026
CURRENCIES = ("USD",) * 8 + ("EUR", "GBP")
TAX_RATE = {"USD": Decimal("0.0725"), "EUR": Decimal("0.19"), "GBP": Decimal("0.20")}
CHARGES = (
    ("Platform seats", "Deferred Revenue", "Seat", (5, 40), ("20", "25", "33", "49.50")),
    ("Analytics add-on", "Deferred Revenue", "Seat", (1, 20), ("9.99", "12", "15")),
    ("Implementation", "Deferred Revenue - Services", None, (1, 1), ("500", "750", "1200")),
    ("Support plan", "Sales Revenue", None, (1, 1), ("99", "199", "299")),
    ("API calls", "Other Revenue", "1k calls", (10, 900), ("0.35", "0.50")),
)
TAXED_SHARE = 0.8
DISCOUNT_SHARE = 0.15
PAID_SHARE = 0.5
INVOICES_PER_ACCOUNT = 10


@dataclass
class Shape:
    """How many of each thing a generated book holds (filled in as it is generated)."""

    accounts: int = 0
    invoices: int = 0
    items: int = 0
    taxation_items: int = 0
    payments: int = 0
    journal_entries: int = 0
    journal_lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _invoice(rng: random.Random, n: int, account: str, currency: str) -> dict[str, Any]:
    date = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(330))
    items: list[dict[str, Any]] = []
    for k in range(rng.randint(2, 5)):
        name, revenue, unit, (lo, hi), prices = CHARGES[rng.randrange(len(CHARGES))]
        quantity = rng.randint(lo, hi)
        price = Decimal(rng.choice(prices))
        amount = quantize(price * quantity, currency)
        item: dict[str, Any] = {
            "id": f"II{n:08d}-{k + 1}",
            "chargeName": name,
            "subscriptionNumber": f"S{n:08d}",
            "quantity": str(quantity),
            "unitPrice": str(price),
            "chargeAmount": str(amount),
            "serviceStartDate": date.isoformat(),
            "financeInformation": {"deferredRevenueAccountingCode": revenue},
        }
        if unit:
            item["unitOfMeasure"] = unit
        if rng.random() < TAXED_SHARE:
            item["taxationItems"] = [_tax(f"TI{n:08d}-{k + 1}", amount, currency, date)]
        items.append(item)
    if rng.random() < DISCOUNT_SHARE:
        first = items[0]
        discount = -quantize(Decimal(first["chargeAmount"]) / 10, currency)
        item = {
            "id": f"II{n:08d}-D",
            "chargeName": "Loyalty discount",
            "subscriptionNumber": f"S{n:08d}",
            "processingType": "Discount",
            "appliedToItemId": first["id"],
            "quantity": "1",
            "unitPrice": str(discount),
            "chargeAmount": str(discount),
            "financeInformation": {"deferredRevenueAccountingCode": "Sales Discounts"},
        }
        if "taxationItems" in first:
            item["taxationItems"] = [_tax(f"TI{n:08d}-D", discount, currency, date)]
        items.append(item)
    return {
        "invoiceNumber": f"INV{n:08d}",
        "accountNumber": account,
        "invoiceDate": date.isoformat(),
        "dueDate": (date + dt.timedelta(days=30)).isoformat(),
        "currency": currency,
        "status": "Posted",
        "billRunId": f"BR-{date:%Y%m}",
        "items": items,
    }


def _tax(tax_id: str, base: Decimal, currency: str, date: dt.date) -> dict[str, Any]:
    rate = TAX_RATE[currency]
    return {
        "id": tax_id,
        "name": "Sales tax",
        "jurisdiction": {"USD": "CALIFORNIA", "EUR": "GERMANY", "GBP": "UNITED KINGDOM"}[currency],
        "taxCode": "STD",
        "taxMode": "TaxExclusive",
        "taxRate": str(rate),
        "taxRateType": "Percentage",
        "taxAmount": str(quantize(base * rate, currency)),
        "taxDate": date.isoformat(),
        "financeInformation": {"salesTaxPayableAccountingCode": "Sales Tax Payable"},
    }


def _total(invoice: dict[str, Any]) -> Decimal:
    return sum(
        (
            Decimal(i["chargeAmount"]) + sum((Decimal(t["taxAmount"]) for t in i.get("taxationItems", [])), Decimal(0))
            for i in invoice["items"]
        ),
        Decimal(0),
    )


def _payment(rng: random.Random, invoice: dict[str, Any]) -> dict[str, Any] | None:
    total = _total(invoice)
    if total <= 0:
        return None
    currency = invoice["currency"]
    amount = quantize(total * Decimal(rng.choice(("0.25", "0.4", "0.5", "0.6"))), currency)
    date = dt.date.fromisoformat(invoice["invoiceDate"]) + dt.timedelta(days=rng.randrange(25))
    number = invoice["invoiceNumber"].replace("INV", "P")
    return {
        "number": number,
        "accountNumber": invoice["accountNumber"],
        "type": "External",
        "status": "Processed",
        "effectiveDate": date.isoformat(),
        "currency": currency,
        "amount": str(amount),
        "paymentMethod": "ACH",
        "applications": [{"invoiceNumber": invoice["invoiceNumber"], "amount": str(amount)}],
    }


def load_file(invoices: int, *, seed: int = 8, first: int = 1) -> dict[str, Any]:
    """A load file of ``invoices`` invoices (numbered from ``first``) with their accounts and partial payments."""
    rng = random.Random(seed * 1_000_003 + first)
    accounts: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    account, currency = "", "USD"
    for n in range(first, first + invoices):
        if (n - first) % INVOICES_PER_ACCOUNT == 0:
            account = f"BA{n:08d}"
            currency = rng.choice(CURRENCIES)
            accounts.append({"accountNumber": account, "name": f"Customer {n:08d} Ltd", "currency": currency})
        invoice = _invoice(rng, n, account, currency)
        docs.append(invoice)
        if rng.random() < PAID_SHARE:
            payment = _payment(rng, invoice)
            if payment is not None:
                pays.append(payment)
    return {"accounts": accounts, "invoices": docs, "payments": pays}


# --- posting a generated book straight into rows ------------------------------------------------------------------

CODES = {
    Role.AR: "Accounts Receivable",
    Role.SALES_TAX: "Sales Tax Payable",
    Role.CASH: "Cash",
    Role.UNAPPLIED: "Unapplied Payments",
}


def _state(invoice: dict[str, Any]) -> DocumentState:
    currency = invoice["currency"]
    items: list[ItemLine] = []
    for n, raw in enumerate(invoice["items"], start=1):
        amount = Decimal(raw["chargeAmount"])
        item = ItemLine(
            id=raw["id"],
            line_no=n,
            processing_type=raw.get("processingType", "Charge"),
            amount=amount,
            balance=amount,
            revenue_code=raw["financeInformation"]["deferredRevenueAccountingCode"],
            ar_code=CODES[Role.AR],
            charge_name=raw["chargeName"],
            subscription_number=raw["subscriptionNumber"],
            applied_to_item_id=raw.get("appliedToItemId"),
            quantity=raw["quantity"],
            unit_price=raw["unitPrice"],
        )
        item.taxes = [
            TaxLine(
                id=t["id"],
                item_id=item.id,
                line_no=0,
                tax_amount=Decimal(t["taxAmount"]),
                balance=Decimal(t["taxAmount"]),
                sales_tax_code=CODES[Role.SALES_TAX],
                ar_code=CODES[Role.AR],
                name=t["name"],
                jurisdiction=t["jurisdiction"],
                tax_code=t["taxCode"],
                tax_mode=t["taxMode"],
                tax_rate=t["taxRate"],
                tax_rate_type=t["taxRateType"],
                tax_date=dt.date.fromisoformat(t["taxDate"]),
            )
            for t in raw.get("taxationItems", [])
        ]
        items.append(item)
    for tax_no, line in enumerate((t for i in items for t in i.taxes), start=1):
        line.line_no = tax_no
    return DocumentState(
        account_number=invoice["accountNumber"],
        number=invoice["invoiceNumber"],
        kind=DocumentKind.INVOICE,
        status="Posted",
        document_date=dt.date.fromisoformat(invoice["invoiceDate"]),
        due_date=dt.date.fromisoformat(invoice["dueDate"]),
        currency=currency,
        items=items,
        bill_run_id=invoice["billRunId"],
        content_hash=hashlib.sha256(invoice["invoiceNumber"].encode()).hexdigest(),
        payload="{}",
    )


@dataclass
class Chunk:
    """The rows of one slice of a directly posted book, ready for a bulk insert (table name -> row dicts)."""

    rows: dict[str, list[dict[str, object]]]
    lines: int


#: Journal lines an invoice of the generated shape posts, with its share of payments (measured: about 17).
LINES_PER_INVOICE = 17


def direct_book(lines: int, operation_id: int, *, seed: int = 8, chunk_invoices: int = 5_000) -> Iterator[Chunk]:
    """A book of about ``lines`` journal lines, posted straight into rows chunk by chunk.

    Documents, payments, applications and journal entries are built by the package's own code (``posting_entries``,
    ``Applications.payment``, ``chain_rows`` and its chain hash), so the rows are what the operations would have
    written: balanced, hash-chained per account, and consistent with the subledger balances.
    """
    written, first = 0, 1
    chunk_invoices = max(1, min(chunk_invoices, lines // LINES_PER_INVOICE))
    while written < lines:
        file = load_file(chunk_invoices, seed=seed, first=first)
        first += chunk_invoices
        docs = {inv["invoiceNumber"]: _state(inv) for inv in file["invoices"]}
        entries: list[Entry] = []
        for doc in docs.values():
            entries.extend(posting_entries(doc))
        apps = Applications(operation_id)
        payment_rows: list[dict[str, object]] = []
        for p in file["payments"]:
            amount, date = Decimal(p["amount"]), dt.date.fromisoformat(p["effectiveDate"])
            target = docs[p["applications"][0]["invoiceNumber"]]
            builder = EntryBuilder(
                account_number=p["accountNumber"],
                date=date,
                currency=p["currency"],
                document_number=p["number"],
                tag=Tag.PAYMENT,
                description=f"External payment {p['number']}",
            )
            builder.add(TransactionType.EXTERNAL_PAYMENT, amount, CODES, None)
            entries.extend(builder.entries())
            entries.extend(
                apps.payment(
                    PaymentSource(p["accountNumber"], p["number"], "External", CODES[Role.UNAPPLIED], p["currency"]),
                    target,
                    fifo(target, amount),
                    date,
                )
            )
            payment_rows.append(
                {
                    "account_number": p["accountNumber"],
                    "number": p["number"],
                    "type": "External",
                    "status": "Processed",
                    "effective_date": date,
                    "currency": p["currency"],
                    "amount": amount,
                    "unapplied": Decimal(0),
                    "cash_code": CODES[Role.CASH],
                    "unapplied_code": CODES[Role.UNAPPLIED],
                    "transferred_to_accounting": False,
                    "content_hash": "0" * 64,
                    "payload": "{}",
                    "operation_id": operation_id,
                }
            )
        # Each application row id must be unique across chunks.
        for row in apps.rows:
            row["id"] = f"{row['id']}-{first}"
        heads = {a["accountNumber"]: (0, "") for a in file["accounts"]}
        periods = [(e.date.strftime("%Y-%m"), e.date) for e in entries]
        entry_rows, line_rows, _ = chain_rows(entries, periods, heads, operation_id)
        doc_rows, item_rows, tax_rows = document_rows(list(docs.values()), operation_id)
        accounts = [
            {
                "account_number": a["accountNumber"],
                "name": a["name"],
                "currency": a["currency"],
                "content_hash": "0" * 64,
                "last_entry_seq": heads[a["accountNumber"]][0],
                "last_entry_hash": heads[a["accountNumber"]][1],
            }
            for a in file["accounts"]
        ]
        written += len(line_rows)
        yield Chunk(
            {
                "customer_accounts": accounts,
                "documents": doc_rows,
                "document_items": item_rows,
                "taxation_items": tax_rows,
                "payments": payment_rows,
                "applications": apps.rows,
                "journal_lines": line_rows,
                "journal_entries": entry_rows,
            },
            len(line_rows),
        )
