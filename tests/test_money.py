"""Rupiah as written: every form people and tools produce read exactly, anything else refused."""

import math
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from telecollect.money import MAX_RUPIAH, parse_positive_rupiah, parse_rupiah
from telecollect.reasons import Refusal


@pytest.mark.parametrize(
    "written, amount",
    [
        ("1.500.000", 1_500_000),
        ("1500000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1500000.00", 1_500_000),
        ("1050000.00", 1_050_000),  # an accounting export, once stored as Rp105.000.000
        ("105000.00", 105_000),
        ("1.500.000,00", 1_500_000),
        ("1,500,000.00", 1_500_000),
        ("1.500.000,-", 1_500_000),
        ("4.350.000,-", 4_350_000),
        ("Rp 420.000,00", 420_000),
        ("IDR 630.000", 630_000),
        ("Rp1.500.000", 1_500_000),
        ("Rp.1.500.000", 1_500_000),
        ("rp 1.500.000", 1_500_000),
        ("1.500", 1_500),  # three digits after the separator: thousands
        ("1.00", 1),
        ("1,0", 1),
        ("0", 0),
        ("0,00", 0),
        ("007", 7),
        ("  1.500.000  ", 1_500_000),
        ("\u00a0Rp\u00a01.500.000\u00a0", 1_500_000),  # non-breaking spaces from an export
        ("1\u202f500\u202f000", 1_500_000),  # narrow no-break space as thousands separator
        ("999.999.999.999", MAX_RUPIAH),
    ],
)
def test_written_amounts_are_read_exactly(written, amount):
    assert parse_rupiah(written) == amount


@pytest.mark.parametrize(
    "written, code",
    [
        ("1,5", "amount_fraction"),
        ("1.5", "amount_fraction"),
        ("1.50", "amount_fraction"),  # decimals 50, not thousands
        ("1050000.5", "amount_fraction"),
        ("1.500.000,01", "amount_fraction"),
        ("(1.500.000)", "amount_negative"),
        ("-1.500.000", "amount_negative"),
        ("Rp -1.500.000", "amount_negative"),
        ("1.500.000-", "amount_negative"),
        ("1.50.000", "amount_format"),
        ("1.5000", "amount_format"),
        ("1,500.000", "amount_format"),  # mixed thousands separators: two readings
        ("1.500,000", "amount_format"),
        ("1.500.000.00", "amount_format"),  # the decimal mark is also the thousands separator
        ("1,500,000,00", "amount_format"),
        ("1234.567", "amount_format"),
        ("0.500", "amount_format"),  # 500, or half a Rupiah with three decimals?
        ("15 00", "amount_format"),
        ("1..500", "amount_format"),
        ("1.500,50,-", "amount_format"),
        ("Rp", "amount_format"),
        ("seratus ribu", "amount_format"),
        ("1.500.000 rupiah", "amount_format"),
        ("\u00b2", "amount_format"),  # superscript two: str.isdigit() says yes
        ("\u0661\u0665\u0660\u0660", "amount_format"),  # Arabic-Indic 1500
        ("１５００", "amount_format"),  # full-width digits
        ("+1.500", "amount_format"),
        ("1.000.000.000.000", "amount_too_large"),
        ("3172015708850001", "amount_too_large"),  # a NIK in the amount column
        ("999" + ".999" * 20, "amount_too_large"),
        ("", "required"),
        ("  \u00a0 ", "required"),
    ],
)
def test_other_writings_are_refused_with_a_reason(written, code):
    with pytest.raises(Refusal) as refused:
        parse_rupiah(written)
    assert refused.value.code == code


def test_the_reason_quotes_what_was_written():
    with pytest.raises(Refusal) as refused:
        parse_rupiah(" 1050000.5 ")
    assert str(refused.value) == "'1050000.5' has a part below one Rupiah; amounts are whole Rupiah"


@pytest.mark.parametrize(
    "cell, amount",
    [
        (1_500_000, 1_500_000),
        (0, 0),
        (1_050_000.0, 1_050_000),
        (Decimal("1500000.00"), 1_500_000),
        (MAX_RUPIAH, MAX_RUPIAH),
    ],
)
def test_typed_cells_count_when_whole(cell, amount):
    assert parse_rupiah(cell) == amount


@pytest.mark.parametrize(
    "cell, code",
    [
        (1_050_000.5, "amount_fraction"),  # an XLSX float cell, once stored as Rp10.500.005
        (1.5, "amount_fraction"),
        (Decimal("1.5"), "amount_fraction"),
        (-35_000, "amount_negative"),
        (-1.0, "amount_negative"),
        (True, "amount_format"),  # bool is an int to Python, not to us
        (False, "amount_format"),
        (float("nan"), "amount_format"),
        (float("inf"), "amount_format"),
        (Decimal("NaN"), "amount_format"),
        (2.0**53, "amount_too_large"),  # past 2^53 a float no longer holds every whole number
        (MAX_RUPIAH + 1, "amount_too_large"),
        (10**30, "amount_too_large"),
        ([1500], "amount_format"),
        (None, "required"),
    ],
)
def test_typed_cells_are_refused_otherwise(cell, code):
    with pytest.raises(Refusal) as refused:
        parse_rupiah(cell)
    assert refused.value.code == code


@pytest.mark.parametrize("value", ["0", "0,00", 0, "Rp 0,-"])
def test_positive_amounts_refuse_zero(value):
    with pytest.raises(Refusal) as refused:
        parse_positive_rupiah(value)
    assert refused.value.code == "amount_not_positive"
    assert parse_positive_rupiah("Rp1") == 1


# --- property: every way of writing a whole amount reads back exactly ---------------------------

THOUSANDS = (".", ",", " ", "\u00a0", "")
DECIMALS = ("", ",00", ".00", ",0", ",-")
PREFIXES = ("", "Rp", "Rp.", "Rp ", "IDR ", "rp. ")


def written(amount: int, thousands: str, decimals: str = "", prefix: str = "") -> str:
    digits = str(amount)
    groups = [digits[max(0, end - 3) : end] for end in range(len(digits), 0, -3)][::-1]
    return f"{prefix}{thousands.join(groups)}{decimals}"


amounts = st.integers(min_value=0, max_value=MAX_RUPIAH)
# A decimal mark equal to the thousands separator is ambiguous and refused (see the table above).
forms = st.tuples(st.sampled_from(THOUSANDS), st.sampled_from(DECIMALS), st.sampled_from(PREFIXES)).filter(
    lambda form: form[1][:1] != form[0] or form[1] == ",-"
)


@given(amounts, forms)
@example(1_500_000, (".", ",-", "Rp "))
@example(MAX_RUPIAH, (",", ".00", "IDR "))
@example(0, ("", ",00", ""))
def test_every_written_form_reads_back_exactly(amount, form):
    thousands, decimals, prefix = form
    assert parse_rupiah(written(amount, thousands, decimals, prefix)) == amount


@given(
    amounts,
    st.sampled_from((".", ",", " ", "")),
    st.sampled_from((".", ",")),
    st.text("0123456789", min_size=1, max_size=2).filter(lambda digits: digits.strip("0")),
    st.sampled_from(PREFIXES),
)
@example(105_000, "", ".", "5", "")
def test_a_part_below_one_rupiah_is_always_refused(amount, thousands, mark, fraction, prefix):
    with pytest.raises(Refusal) as refused:
        parse_rupiah(written(amount, thousands, f"{mark}{fraction}", prefix))
    # A decimal mark that also separates the thousands makes the whole form ambiguous, refused as such.
    assert refused.value.code == "amount_fraction" or (mark == thousands and refused.value.code == "amount_format")


@given(st.integers(min_value=MAX_RUPIAH + 1, max_value=10**18), st.sampled_from((".", ",", "")))
def test_anything_above_the_bound_is_refused(amount, thousands):
    with pytest.raises(Refusal) as refused:
        parse_rupiah(written(amount, thousands))
    assert refused.value.code == "amount_too_large"


@given(st.floats())
@example(1_050_000.5)
@example(-0.0)
def test_a_float_cell_is_read_only_when_whole_and_in_range(cell):
    whole_in_range = math.isfinite(cell) and cell.is_integer() and 0 <= cell <= MAX_RUPIAH
    try:
        amount = parse_rupiah(cell)
    except Refusal:
        assert not whole_in_range
    else:
        assert whole_in_range and amount == cell
