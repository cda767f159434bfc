"""Money is Decimal, exact, quantized to the currency's minor unit; floats never get in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subledger.money import fmt, is_exact_for, minor_unit, parse_decimal, ratio_split


@pytest.mark.parametrize("bad", [1.5, float("nan"), "NaN", "Infinity", "-inf", "", " 1", "1e", True, None, [1]])
def test_parse_refuses_floats_and_non_finite(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        parse_decimal(bad)


def test_parse_keeps_exact_decimal() -> None:
    assert parse_decimal("13.12") == Decimal("13.12")
    assert parse_decimal(430) == Decimal(430)


def test_minor_units_from_cldr() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("BHD")) == (2, 0, 3)
    assert is_exact_for(Decimal("13.12"), "USD")
    assert not is_exact_for(Decimal("13.125"), "USD")
    assert not is_exact_for(Decimal("1.5"), "JPY")


def test_fmt_never_prints_negative_zero() -> None:
    assert fmt(Decimal("-0.00"), "USD") == "0.00"
    assert fmt(Decimal("330"), "USD") == "330.00"


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=8),
)
def test_ratio_split_adds_back_to_the_total(total: Decimal, weights: list[Decimal]) -> None:
    parts = ratio_split(total, weights, "USD")
    if sum(weights) == 0:
        assert all(p == 0 for p in parts)
    else:
        assert sum(parts) == total
        assert all(is_exact_for(p, "USD") for p in parts)
