"""The load file: customer accounts, invoices, debit memos, credit memos and payments.

Field names are the reference product's (``invoiceNumber``, ``financeInformation``, ``taxationItems`` ...), as
``../shared/examples/`` fixes them. Unknown fields are an error. Amounts are checked against the document currency's
minor unit here, so nothing past this module ever sees an amount the currency cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, StringConstraints, model_validator

from subledger.models.base import Amount, Code, Date, DecimalText, Id, Model, Name, OneOf, Short, items_sum_to
from subledger.money import is_exact_for
from subledger.posting import PaymentType

DocumentStatus = Literal["Draft", "Posted", "Canceled"]
PaymentStatus = Literal["Draft", "Processing", "Processed", "Canceled"]
ProcessingType = Literal["Charge", "Discount"]


class ItemFinanceInformation(Model):
    deferred_revenue_accounting_code: str | None = None
    recognized_revenue_accounting_code: str | None = None
    accounts_receivable_accounting_code: str | None = None
    on_account_accounting_code: str | None = None
    revenue_recognition_rule_name: str | None = None


class TaxFinanceInformation(Model):
    sales_tax_payable_accounting_code: str | None = None
    accounts_receivable_accounting_code: str | None = None
    on_account_accounting_code: str | None = None


class TaxationItem(Model):
    id: Id
    name: Name | None = None
    jurisdiction: Name | None = None
    location_code: Short | None = None
    tax_code: Short | None = None
    tax_code_description: Name | None = None
    tax_mode: Literal["TaxExclusive", "TaxInclusive"] | None = None
    tax_rate: DecimalText | None = None
    tax_rate_description: Name | None = None
    tax_rate_type: Literal["Percentage", "FlatFee"] | None = None
    exempt_amount: Amount | None = None
    tax_amount: Amount
    tax_date: Date | None = None
    source_tax_item_id: Id | None = None
    finance_information: TaxFinanceInformation = TaxFinanceInformation()


class _Item(Model):
    id: Id
    charge_name: Name | None = None
    charge_model: Name | None = None
    charge_number: Short | None = None
    description: Name | None = None
    subscription_number: Id | None = None
    processing_type: ProcessingType = "Charge"
    applied_to_item_id: Id | None = None
    quantity: DecimalText | None = None
    unit_price: DecimalText | None = None
    unit_of_measure: Short | None = None
    sku: Short | None = None
    sku_name: Name | None = None
    service_start_date: Date | None = None
    service_end_date: Date | None = None
    finance_information: ItemFinanceInformation = ItemFinanceInformation()
    taxation_items: list[TaxationItem] = []

    @property
    def amount(self) -> Decimal:
        raise NotImplementedError


class InvoiceItem(_Item):
    charge_amount: Amount

    @property
    def amount(self) -> Decimal:
        return self.charge_amount


class MemoItem(_Item):
    amount_without_tax: Amount
    source_item_id: Id | None = None
    source_item_type: (
        Literal[
            "SubscriptionComponent",
            "InvoiceDetail",
            "ProductRatePlanCharge",
            "OrderLineItem",
            "CreditMemoDetail",
            "DebitMemoDetail",
        ]
        | None
    ) = None

    @property
    def amount(self) -> Decimal:
        return self.amount_without_tax


class _Document(Model):
    account_number: Id
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    status: DocumentStatus = "Posted"
    comment: str | None = Field(default=None, max_length=255)
    bill_run_id: Id | None = None

    @property
    def number(self) -> str:
        raise NotImplementedError

    @property
    def document_date(self) -> object:
        raise NotImplementedError

    @property
    def lines(self) -> list[InvoiceItem] | list[MemoItem]:
        raise NotImplementedError

    def amounts(self) -> Iterator[tuple[str, Decimal]]:
        for i, item in enumerate(self.lines):
            yield f"items[{i}].amount", item.amount
            for j, tax in enumerate(item.taxation_items):
                yield f"items[{i}].taxationItems[{j}].taxAmount", tax.tax_amount
                if tax.exempt_amount is not None:
                    yield f"items[{i}].taxationItems[{j}].exemptAmount", tax.exempt_amount

    @model_validator(mode="after")
    def _amounts_fit_currency(self) -> _Document:
        for field, amount in self.amounts():
            if not is_exact_for(amount, self.currency):
                raise ValueError(f"{field} {amount} has more decimals than {self.currency} allows")
        return self


class Invoice(_Document):
    invoice_number: Id
    invoice_date: Date
    due_date: Date | None = None
    items: list[InvoiceItem] = Field(min_length=1)

    @property
    def number(self) -> str:
        return self.invoice_number

    @property
    def document_date(self) -> object:
        return self.invoice_date

    @property
    def lines(self) -> list[InvoiceItem]:
        return self.items


class DebitMemo(_Document):
    number_: Id = Field(alias="number")
    debit_memo_date: Date
    due_date: Date | None = None
    reason_code: Code | None = None
    referred_invoice_number: Id | None = None
    items: list[MemoItem] = Field(min_length=1)

    @property
    def number(self) -> str:
        return self.number_

    @property
    def document_date(self) -> object:
        return self.debit_memo_date

    @property
    def lines(self) -> list[MemoItem]:
        return self.items


class ApplicationItem(OneOf):
    ONE_OF = ("invoice_item_id", "debit_memo_item_id", "taxation_item_id")
    invoice_item_id: Id | None = None
    debit_memo_item_id: Id | None = None
    #: The reference product's apply and unapply bodies name a taxation line ``taxItemId``; taken for it.
    taxation_item_id: Id | None = Field(default=None, validation_alias=AliasChoices("taxationItemId", "taxItemId"))
    amount: Amount


class Application(OneOf):
    """Part of a payment or credit memo applied to one invoice or debit memo, optionally item by item."""

    ONE_OF = ("invoice_number", "debit_memo_number")

    invoice_number: Id | None = None
    debit_memo_number: Id | None = None
    amount: Amount
    effective_date: Date | None = None
    items: list[ApplicationItem] = []

    @model_validator(mode="after")
    def _sum(self) -> Application:
        items_sum_to(self.amount, self.items)
        return self

    @property
    def target(self) -> str:
        return self.given


class CreditMemo(_Document):
    number_: Id = Field(alias="number")
    credit_memo_date: Date
    reason_code: Code | None = None
    source: Annotated[str, StringConstraints(max_length=32)] | None = None
    source_type: Annotated[str, StringConstraints(max_length=32)] | None = None
    referred_invoice_number: Id | None = None
    #: The debit memo a write-off's or reversal's credit memo mirrors (never put in referredInvoiceNumber).
    referred_debit_memo_number: Id | None = None
    items: list[MemoItem] = Field(min_length=1)
    applications: list[Application] = []

    @property
    def number(self) -> str:
        return self.number_

    @property
    def document_date(self) -> object:
        return self.credit_memo_date

    @property
    def lines(self) -> list[MemoItem]:
        return self.items

    def amounts(self) -> Iterator[tuple[str, Decimal]]:
        yield from super().amounts()
        for i, app in enumerate(self.applications):
            yield f"applications[{i}].amount", app.amount
            for j, part in enumerate(app.items):
                yield f"applications[{i}].items[{j}].amount", part.amount


class Payment(Model):
    number: Id
    account_number: Id
    type: PaymentType = "External"
    status: PaymentStatus = "Processed"
    effective_date: Date
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount: Amount
    payment_method: Short | None = None
    reference_id: Annotated[str, StringConstraints(max_length=60)] | None = None
    comment: str | None = Field(default=None, max_length=255)
    finance_information: dict[str, str] | None = None
    applications: list[Application] = []

    @model_validator(mode="after")
    def _amounts(self) -> Payment:
        fields = [("amount", self.amount)]
        for i, app in enumerate(self.applications):
            fields.append((f"applications[{i}].amount", app.amount))
            fields.extend((f"applications[{i}].items[{j}].amount", p.amount) for j, p in enumerate(app.items))
        for field, amount in fields:
            if not is_exact_for(amount, self.currency):
                raise ValueError(f"{field} {amount} has more decimals than {self.currency} allows")
            if amount < 0:
                raise ValueError(f"{field} {amount} must not be negative")
        applied = sum((a.amount for a in self.applications), Decimal(0))
        if applied > self.amount:
            raise ValueError(f"applications total {applied} exceeds the payment amount {self.amount}")
        return self


class CustomerAccount(Model):
    account_number: Id
    name: str = Field(min_length=1, max_length=255)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class LoadFile(Model):
    """A load file: each top-level list optional, loaded in this order."""

    accounts: list[CustomerAccount] = []
    invoices: list[Invoice] = []
    debit_memos: list[DebitMemo] = []
    credit_memos: list[CreditMemo] = []
    payments: list[Payment] = []


AnyDocument = Invoice | DebitMemo | CreditMemo
