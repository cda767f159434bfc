"""The reference product's journal run and summary journal entry bodies, as far as the books take them.

The books take a whole accounting period's entries into a run, of every transaction type, dated on the period's
last day, and transfer a run to accounting as a whole (``operations.journal_runs``). A field that asks for
something else is refused, naming the field and the rule, rather than dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, field_validator

from subledger.errors import InvalidInput, NotFound
from subledger.models.base import Date, Model
from subledger.models.views import PeriodView
from subledger.posting import TransactionType

#: The reference product's journal run transaction types (Part 2 §11.3). The book posts only ``TransactionType``;
#: the others name transactions it never has, so listing them takes nothing more.
REFERENCE_TRANSACTION_TYPES = frozenset(
    {
        *(t.value for t in TransactionType),
        "Invoice Adjustment",
        "Electronic Credit Balance Payment",
        "External Credit Balance Payment",
        "Electronic Credit Balance Refund",
        "External Credit Balance Refund",
        "Credit Balance Adjustment (Applied from Credit Balance)",
        "Credit Balance Adjustment (Transferred to Credit Balance)",
        "Revenue Event Item",
        "Electronic Payment Application",
        "External Payment Application",
        "Electronic Refund Application",
        "External Refund Application",
        "Electronic Refund Application Item",
        "External Refund Application Item",
        "Unrealized FX Gain Loss",
    }
)
WHOLE_PERIODS = "the book's journal runs take whole accounting periods"


class JournalRunTransactionType(Model):
    type: Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(REFERENCE_TRANSACTION_TYPES)})]


class JournalRunCreate(Model):
    """``POST /v1/journal-runs``: the period by ``accountingPeriodName`` or by ``targetStartDate`` and
    ``targetEndDate`` (its first and last days); ``journalEntryDate`` only the period's last day (what the book
    dates a run on); ``transactionTypes`` every type the book posts (types it never posts may be listed too)."""

    accounting_period_name: str | None = None
    journal_entry_date: Date | None = None
    target_start_date: Date | None = None
    target_end_date: Date | None = None
    transaction_types: list[JournalRunTransactionType] | None = None

    @field_validator("transaction_types")
    @classmethod
    def _every_type(cls, value: list[JournalRunTransactionType] | None) -> list[JournalRunTransactionType] | None:
        if value is None:
            return value
        named = [t.type for t in value]
        unknown = [name for name in named if name not in REFERENCE_TRANSACTION_TYPES]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a journal run transaction type")
        missing = [t.value for t in TransactionType if t.value not in named]
        if missing:
            raise ValueError(
                f"the book's journal runs take every transaction type; missing: {', '.join(missing)} (a run of some "
                "types only is not supported)"
            )
        return value

    def period_name(self, periods: Sequence[PeriodView]) -> str:
        """The accounting period the run takes, once the date fields are checked against the calendar."""
        start, end = self.target_start_date, self.target_end_date
        if (start is None) != (end is None):
            raise InvalidInput("Field required", field="targetEndDate" if end is None else "targetStartDate")
        if self.accounting_period_name is not None:
            name = self.accounting_period_name
            period = next((p for p in periods if p.name == name), None)
            if period is None:
                raise NotFound(f"no accounting period {name}", document=name, field="accountingPeriodName")
        elif start is None:
            raise InvalidInput("Field required", field="accountingPeriodName")
        else:
            period = next((p for p in periods if p.start_date == start), None)
            if period is None:
                raise InvalidInput(
                    f"{start} is not the first day of an accounting period: {WHOLE_PERIODS}", field="targetStartDate"
                )
        if start is not None and start != period.start_date:
            raise InvalidInput(
                f"{start} is not the first day of accounting period {period.name} ({period.start_date}): "
                f"{WHOLE_PERIODS}",
                field="targetStartDate",
            )
        if end is not None and end != period.end_date:
            raise InvalidInput(
                f"{end} is not the last day of accounting period {period.name} ({period.end_date}): {WHOLE_PERIODS}",
                field="targetEndDate",
            )
        if self.journal_entry_date is not None and self.journal_entry_date != period.end_date:
            raise InvalidInput(
                f"{self.journal_entry_date} is not the last day of accounting period {period.name} "
                f"({period.end_date}): the book dates a journal run's entries on its period's last day",
                field="journalEntryDate",
            )
        return period.name


#: The reference product's values of a summary journal entry's ``transferredToAccounting``.
Transferred = Literal["No", "Processing", "Yes", "Error", "Ignore"]


class JournalEntryBasicInformation(Model):
    """``PUT /v1/journal-entries/{je-number}/basic-information``: the transfer status (Yes confirms the entry's
    run, Error marks it rejected with ``notes`` as the reason)."""

    transferred_to_accounting: Transferred
    notes: str | None = Field(default=None, max_length=2000)
