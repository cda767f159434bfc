"""Invoice item adjustments (books without Invoice Settlement): the requests and what they answer.

Field names are the reference product's (``InvoiceItemAdjustment`` object, camelCase on the wire): ``type`` Credit
or Charge, ``amount`` always positive, ``sourceType`` InvoiceDetail (an invoice item) or Tax (a taxation item),
``sourceId`` the adjusted line, ``adjustmentDate``, ``reasonCode``, ``referenceId`` (at most 60 characters),
``comment`` (at most 255), ``deferredRevenueAccount`` / ``recognizedRevenueAccount`` overriding the codes inherited
from the item, and custom fields (``name__c``).

``WriteOffByAdjustments`` is the bulk write-off task of seed 002 in such a book: the general settings (adjustment
date, reason code, reference id, comment, custom fields) and those of invoice item adjustments only (Adjust
Taxation Items, Single Transaction, the revenue accounts for items and for tax items, Write-off Positive Charges
Only).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from subledger.models.base import Amount, Date, Id, Model, OutputModel
from subledger.posting import AdjustedSource

AdjustmentType = Literal["Credit", "Charge"]
#: Custom fields of the invoice item adjustment object: ``name__c`` as the reference product names them.
CustomFieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$", max_length=64)]
CustomFields = dict[CustomFieldName, str | int | bool | None]
DEFAULT_REASON_CODE = "Write-off"


class _Common(Model):
    """What every adjustment of a request carries, whether given one by one or by the write-off task."""

    reason_code: str | None = Field(default=None, min_length=1, max_length=100)
    reference_id: str | None = Field(default=None, max_length=60)
    comment: str | None = Field(default=None, max_length=255)
    custom_fields: CustomFields = {}


class InvoiceItemAdjustment(_Common):
    """One adjustment of one invoice item or taxation item."""

    invoice_number: Id
    type: AdjustmentType
    amount: Amount
    source_type: AdjustedSource
    source_id: Id
    adjustment_date: Date
    deferred_revenue_account: str | None = Field(default=None, min_length=1, max_length=100)
    recognized_revenue_account: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: Decimal) -> Decimal:
        if amount <= 0:  # on the field, so that the refusal names it
            raise ValueError("must be positive (type Credit lowers the item's charge, Charge raises it)")
        return amount


class AdjustmentRequest(Model):
    """Adjustments created together, in one transaction, and judged together by the invoice-balance rules."""

    adjustments: list[InvoiceItemAdjustment] = Field(min_length=1)


class WriteOffByAdjustments(_Common):
    """The settings of the bulk write-off task in a book without Invoice Settlement (seed 002)."""

    adjustment_date: Date
    adjust_taxation_items: bool = False
    single_transaction: bool = True
    recognized_revenue_account_for_invoice_item: str | None = Field(default=None, min_length=1, max_length=100)
    deferred_revenue_account_for_invoice_item: str | None = Field(default=None, min_length=1, max_length=100)
    recognized_revenue_account_for_tax_item: str | None = Field(default=None, min_length=1, max_length=100)
    deferred_revenue_account_for_tax_item: str | None = Field(default=None, min_length=1, max_length=100)
    write_off_positive_charges_only: bool = False

    @model_validator(mode="after")
    def _tax_accounts_need_tax_items(self) -> WriteOffByAdjustments:
        if not self.adjust_taxation_items and (
            self.recognized_revenue_account_for_tax_item or self.deferred_revenue_account_for_tax_item
        ):
            raise ValueError("the revenue accounts for tax items apply only with adjustTaxationItems")
        return self


class BulkAdjustmentWriteOff(Model):
    """``subledger write-off --from FILE`` in a book without Invoice Settlement: invoices and the task settings."""

    invoices: list[Id] = Field(min_length=1)
    settings: WriteOffByAdjustments


# --- results ----------------------------------------------------------------------------------------------------


class AdjustmentView(OutputModel):
    number: str
    account_number: str
    invoice_number: str
    type: AdjustmentType
    amount: str
    currency: str
    source_type: AdjustedSource
    source_id: str
    adjustment_date: dt.date
    reason_code: str
    reference_id: str | None = None
    comment: str | None = None
    accounting_code: str
    accounts_receivable_accounting_code: str
    deferred_revenue_account: str | None = None
    recognized_revenue_account: str | None = None
    status: str
    transferred_to_accounting: str
    custom_fields: dict[str, str | int | bool | None] = {}


class AdjustedTaxationItem(OutputModel):
    id: str
    name: str | None = None
    tax_amount: str
    balance: str


class AdjustedInvoiceItem(OutputModel):
    """An invoice item with its new balance, as the task appends it to its payload (with its adjusted tax)."""

    id: str
    charge_name: str | None = None
    processing_type: str
    charge_amount: str
    balance: str
    taxation_items: list[AdjustedTaxationItem] = []


class InvoiceAdjusted(OutputModel):
    invoice_number: str
    balance: str
    invoice_items: list[AdjustedInvoiceItem]


class AdjustmentResult(OutputModel):
    adjustments: list[AdjustmentView]
    invoices: list[InvoiceAdjusted]
    journal_entries: list[str]


class InvoiceWriteOffOutcome(OutputModel):
    """One invoice of a bulk write-off: Processed, Failed, or Partial (single transaction off, some refused)."""

    invoice_number: str
    status: Literal["Processed", "Failed", "Partial"]
    adjustments: list[str] = []
    balance: str | None = None
    invoice_items: list[AdjustedInvoiceItem] = []
    errors: list[str] = []


class AdjustmentWriteOffReport(OutputModel):
    processed: int
    failed: int
    partial: int
    invoices: list[InvoiceWriteOffOutcome]
