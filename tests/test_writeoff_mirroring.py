"""The mirroring billing rule, case by case: which lines a generated memo mirrors, and what each line settles.

Each case of Part 2 §3.4 (I-VII) and each row of the seed 000 table is stated as data: the document's lines as
(amount, balance) with their taxation lines, and the memo each rule produces as (source line, processing type,
amount, what it settles, taxes). These are pure: the same cases written off for real, on both databases, are in
``test_writeoff_cases.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from subledger.errors import MirroringRuleRefuses, NotFound, NothingToWriteOff
from subledger.operations.mirror import MirrorLine, mirrored_lines
from subledger.posting import DocumentKind
from subledger.settings import MirroringRule
from subledger.state import DocumentState, ItemLine, TaxLine

RULES: tuple[MirroringRule, ...] = ("Yes", "YesExceptZeroBalance", "No")

# An item: (id, amount, balance, taxes [(amount, balance)], discount of item id or None).
Spec = tuple[str, str, str, list[tuple[str, str]], str | None]


def document(kind: str, specs: list[Spec]) -> DocumentState:
    items = []
    for n, (item_id, amount, balance, taxes, discounts) in enumerate(specs, start=1):
        item = ItemLine(
            id=item_id,
            line_no=n,
            processing_type="Discount" if discounts else "Charge",
            amount=Decimal(amount),
            balance=Decimal(balance),
            revenue_code="Deferred Revenue",
            ar_code="Accounts Receivable",
            applied_to_item_id=discounts,
        )
        item.taxes = [
            TaxLine(
                id=f"{item_id}-T{j}",
                item_id=item_id,
                line_no=j,
                tax_amount=Decimal(tax_amount),
                balance=Decimal(tax_balance),
                sales_tax_code="Sales Tax Payable",
                ar_code="Accounts Receivable",
            )
            for j, (tax_amount, tax_balance) in enumerate(taxes, start=1)
        ]
        items.append(item)
    return DocumentState(
        account_number="A1",
        number="DOC1",
        kind=DocumentKind(kind),
        status="Posted",
        document_date=dt.date(2026, 10, 5),
        currency="USD",
        items=items,
    )


def shape(lines: list[MirrorLine]) -> list[tuple[object, ...]]:
    """(source, processing type, amount, settles [(line, amount)], tax amounts) of each generated line."""
    return [
        (
            line.source.id,
            line.processing_type or line.source.processing_type,
            line.amount,
            [(original.id, amount) for original, amount in line.settlements()],
            [amount for _, amount in line.taxes],
        )
        for line in lines
    ]


def plain(item_id: str, amount: str, taxes: list[str], kind: str = "Charge") -> tuple[object, ...]:
    """A generated line settling its own source line by its whole amount."""
    return (item_id, kind, Decimal(amount), [(item_id, Decimal(amount))], [Decimal(t) for t in taxes])


def line(item_id: str, kind: str, amount: str, settles: list[tuple[str, str]], taxes: list[str]) -> tuple[object, ...]:
    return (item_id, kind, Decimal(amount), [(i, Decimal(a)) for i, a in settles], [Decimal(t) for t in taxes])


CASE_I: list[Spec] = [("A", "100", "100", [("20", "20")], None), ("B", "10", "10", [("2", "2")], None)]
CASE_II: list[Spec] = [("A", "100", "100", [("20", "20")], None), ("B", "-10", "-10", [("-2", "-2")], None)]
CASE_III: list[Spec] = [("A", "100", "100", [("20", "20")], None), ("D", "-10", "-10", [("-2", "-2")], "A")]
CASE_IV: list[Spec] = [("A", "100", "100", [("0", "0")], None), ("B", "10", "10", [("0", "0")], None)]
CASE_V: list[Spec] = [("A", "0", "0", [("0", "0")], None), ("B", "0", "0", [("0", "0")], None)]
CASE_VI: list[Spec] = [("A", "100", "100", [("20", "20")], None), ("B", "10", "0", [("2", "0")], None)]
CASE_VII: list[Spec] = [("A", "10", "10", [("2", "2")], None), ("B", "-10", "-10", [("-2", "-2")], None)]


@pytest.mark.parametrize("rule", RULES)
def test_case_i_positive_lines_mirror_alike_under_every_rule(rule: MirroringRule) -> None:
    lines = mirrored_lines(document("Invoice", CASE_I), rule)
    assert shape(lines) == [plain("A", "100", ["20"]), plain("B", "10", ["2"])]
    assert sum(line.amount + sum(t for _, t in line.taxes) for line in lines) == Decimal(132)


@pytest.mark.parametrize("rule", RULES)
def test_case_ii_negative_line_mirrors_under_every_rule(rule: MirroringRule) -> None:
    lines = mirrored_lines(document("Invoice", CASE_II), rule)
    assert shape(lines) == [plain("A", "100", ["20"]), plain("B", "-10", ["-2"])]


@pytest.mark.parametrize("rule", ["Yes", "YesExceptZeroBalance"])
def test_case_iii_discount_mirrors_as_a_discount_line(rule: MirroringRule) -> None:
    lines = mirrored_lines(document("Invoice", CASE_III), rule)
    assert shape(lines) == [plain("A", "100", ["20"]), plain("D", "-10", ["-2"], kind="Discount")]


def test_case_iii_under_no_the_discount_folds_into_its_item_and_a_zero_charge_carries_its_tax() -> None:
    lines = mirrored_lines(document("Invoice", CASE_III), "No")
    assert shape(lines) == [
        line("A", "Charge", "90", [("A", "100"), ("D", "-10")], ["20"]),
        line("D", "Charge", "0", [], ["-2"]),
    ]


def test_case_iv_zero_tax_lines_only_under_yes() -> None:
    doc = document("Invoice", CASE_IV)
    assert shape(mirrored_lines(doc, "Yes")) == [plain("A", "100", ["0"]), plain("B", "10", ["0"])]
    for rule in ("YesExceptZeroBalance", "No"):
        assert shape(mirrored_lines(doc, rule)) == [plain("A", "100", []), plain("B", "10", [])]


def test_case_v_all_zero_document_only_under_yes() -> None:
    doc = document("Invoice", CASE_V)
    assert shape(mirrored_lines(doc, "Yes")) == [plain("A", "0", ["0"]), plain("B", "0", ["0"])]
    for rule in ("YesExceptZeroBalance", "No"):
        with pytest.raises(MirroringRuleRefuses, match="cannot be mirrored"):
            mirrored_lines(doc, rule)


def test_case_vi_paid_lines_mirror_as_zero_only_under_yes() -> None:
    doc = document("Invoice", CASE_VI)
    assert shape(mirrored_lines(doc, "Yes")) == [plain("A", "100", ["20"]), plain("B", "0", ["0"])]
    for rule in ("YesExceptZeroBalance", "No"):
        assert shape(mirrored_lines(doc, rule)) == [plain("A", "100", ["20"])]


@pytest.mark.parametrize("rule", RULES)
def test_case_vii_zero_total_with_non_zero_lines_mirrors_under_every_rule(rule: MirroringRule) -> None:
    doc = document("Invoice", CASE_VII)
    assert doc.balance == 0
    assert shape(mirrored_lines(doc, rule)) == [plain("A", "10", ["2"]), plain("B", "-10", ["-2"])]


@pytest.mark.parametrize("rule", RULES)
def test_nothing_left_to_mirror_is_refused(rule: MirroringRule) -> None:
    paid = document("Invoice", [("A", "100", "0", [("20", "0")], None)])
    with pytest.raises(NothingToWriteOff, match="nothing left"):
        mirrored_lines(paid, rule)


# --- the seed 000 table (debit memos): a row per debit memo item and its taxation item ---------------------------

SEED_000 = [
    # (debit memo total non-zero?, item balance, tax balance, credit memo item, credit memo tax) under Yes
    ("non-zero memo", "40", "3.50", "40", "3.50"),
    ("non-zero memo", "40", "0", "40", "0"),
    ("non-zero memo", "0", "3.50", "0", "3.50"),
    ("non-zero memo", "0", "0", "0", "0"),
]


@pytest.mark.parametrize(("_", "item", "tax", "cm_item", "cm_tax"), SEED_000)
def test_seed_000_each_debit_memo_line_pattern_is_mirrored_under_yes(
    _: str, item: str, tax: str, cm_item: str, cm_tax: str
) -> None:
    # A first line with a balance keeps the memo's total non-zero, as the table's first four rows say.
    doc = document("DebitMemo", [("M", "10", "10", [], None), ("X", item, item, [(tax, tax)], None)])
    lines = mirrored_lines(doc, "Yes")
    assert shape(lines)[1] == plain("X", cm_item, [cm_tax])


def test_seed_000_zero_balance_memo_with_non_zero_lines_gives_a_zero_memo_with_non_zero_lines() -> None:
    doc = document(
        "DebitMemo", [("X", "40", "40", [("3.50", "3.50")], None), ("Y", "-40", "-40", [("-3.50", "-3.50")], None)]
    )
    assert doc.balance == 0
    for rule in RULES:
        lines = mirrored_lines(doc, rule)
        assert shape(lines) == [plain("X", "40", ["3.50"]), plain("Y", "-40", ["-3.50"])]


def test_seed_000_zero_balance_memo_with_zero_lines_gives_a_zero_memo_under_yes_only() -> None:
    doc = document("DebitMemo", [("X", "0", "0", [("0", "0")], None)])
    assert shape(mirrored_lines(doc, "Yes")) == [plain("X", "0", ["0"])]
    with pytest.raises(MirroringRuleRefuses):
        mirrored_lines(doc, "No")


def test_seed_000_other_rules_leave_zero_lines_out_but_keep_a_zero_item_carrying_its_tax() -> None:
    doc = document(
        "DebitMemo",
        [("M", "10", "10", [("0", "0")], None), ("X", "0", "0", [("3.50", "3.50")], None), ("Z", "0", "0", [], None)],
    )
    for rule in ("YesExceptZeroBalance", "No"):
        assert shape(mirrored_lines(doc, rule)) == [plain("M", "10", []), line("X", "Charge", "0", [], ["3.50"])]


# --- line level ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_line_level_mirrors_only_the_lines_given(rule: MirroringRule) -> None:
    doc = document("Invoice", CASE_I)
    lines = mirrored_lines(doc, rule, {"A": Decimal("60"), "B-T1": Decimal("1")})
    assert shape(lines) == [plain("A", "60", []), line("B", "Charge", "0", [], ["1"])]


def test_line_level_discount_folds_under_no() -> None:
    doc = document("Invoice", CASE_III)
    lines = mirrored_lines(doc, "No", {"A": Decimal("50"), "D": Decimal("-5"), "D-T1": Decimal("-1")})
    assert shape(lines) == [
        line("A", "Charge", "45", [("A", "50"), ("D", "-5")], []),
        line("D", "Charge", "0", [], ["-1"]),
    ]


def test_line_level_unknown_line_is_not_found() -> None:
    with pytest.raises(NotFound, match="no line NOPE"):
        mirrored_lines(document("Invoice", CASE_I), "Yes", {"NOPE": Decimal(1)})


def test_credit_memo_lines_mirror_as_they_are_whatever_the_rule() -> None:
    memo = document("CreditMemo", [("C", "40", "40", [("0", "0")], None), ("D", "-5", "-5", [], "C")])
    assert shape(mirrored_lines(memo, "No")) == [plain("C", "40", ["0"]), plain("D", "-5", [], kind="Discount")]
