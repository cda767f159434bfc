"""The reference product's journal run and summary journal entry bodies, as far as the books take them.

The books take a whole accounting period's entries into a run, of every transaction type, dated on the period's
last day, and transfer a run to accounting as a whole (``operations.journal_runs``). A field that asks for
something else is refused, naming the field and the rule, rather than dropped.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from subledger.models.base import Model

#: The reference product's values of a summary journal entry's ``transferredToAccounting``.
Transferred = Literal["No", "Processing", "Yes", "Error", "Ignore"]


class JournalEntryBasicInformation(Model):
    """``PUT /v1/journal-entries/{je-number}/basic-information``: the transfer status (Yes confirms the entry's
    run, Error marks it rejected with ``notes`` as the reason)."""

    transferred_to_accounting: Transferred
    notes: str | None = Field(default=None, max_length=2000)
