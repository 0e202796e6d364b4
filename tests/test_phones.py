"""Mobile number parsing: the fast path agrees with libphonenumber."""

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from telecollect.phones import InvalidPhone, is_mobile_number, is_no_number, mask_phone, normalize_mobile, wa_digits


def test_fast_path_agrees_with_the_full_check_on_random_numbers():
    rng = random.Random(7)
    disagreements = []
    for _ in range(5000):
        national = str(rng.choice([8, 8, 8, 2, 3, 5, 6, 7, 9])) + "".join(
            str(rng.randint(0, 9)) for _ in range(rng.randint(6, 12))
        )
        try:
            fast = normalize_mobile("0" + national) is not None
        except InvalidPhone:
            fast = False
        if fast != is_mobile_number("+62" + national):
            disagreements.append(national)
    assert disagreements == []


@pytest.mark.parametrize(
    "written", ["0812-3456-7890", "+62 812-3456-7890", "62 812 3456 7890", "812 3456 7890", "0812.3456.7890"]
)
def test_usual_forms_normalise_to_e164(written):
    assert normalize_mobile(written) == "+6281234567890"


@pytest.mark.parametrize(
    "written, code",
    [
        ("(021) 555-1234", "phone_invalid"),
        ("+65 8123 4567", "phone_not_indonesian"),
        ("halo", "phone_characters"),
        ("0812-3456-789O", "phone_characters"),  # a letter O: libphonenumber would read it as a keypad digit
        ("0812-3456-78９0", "phone_characters"),  # a full-width digit
        ("81234567890.0", "phone_number_cell"),  # a float column written as text
        ("081234567890.00", "phone_number_cell"),
        ("6.2812345679E+12", "phone_number_cell"),
        (81234567890.5, "phone_number_cell"),
        ("0812-3456-7890 / 0813-1111-2222", "phone_two_numbers"),
        ("081234567890, 081311112222", "phone_two_numbers"),
        ("0812 3456 7890 atau 0813 1111 2222", "phone_two_numbers"),
        ("++6281234567890", "phone_characters"),
    ],
)
def test_rejections_say_why(written, code):
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile(written)
    assert caught.value.code == code


@pytest.mark.parametrize("typed", [81234567890, 6281234567890, 81234567890.0])
def test_a_whole_number_from_a_typed_cell_is_read_as_an_integer(typed):
    assert normalize_mobile(typed) == "+6281234567890"


@pytest.mark.parametrize("written", ["", "  ", "-", "0", "tidak ada", "Tidak Ada", "N/A", "—", None, 0])
def test_placeholders_mean_no_number(written):
    assert is_no_number(written)


@pytest.mark.parametrize("written", ["0812-3456-7890", "halo", 81234567890])
def test_anything_else_is_a_number_to_check(written):
    assert not is_no_number(written)


def test_masking_and_whatsapp_digits():
    assert mask_phone("+6281234567890") == "+62812•••••890"
    assert wa_digits("+6281234567890") == "6281234567890"


# --- property: every written form of a number reads back as that number, and a letter never passes ------

_NATIONAL = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["811", "812", "813", "821", "822", "852", "853", "857", "878", "895", "896"]),
    st.text("0123456789", min_size=7, max_size=8),
)


@st.composite
def written_forms(draw):
    national = draw(_NATIONAL)
    lead = draw(st.sampled_from(["0", "+62", "62", "+62 ", "62 ", ""]))
    separator = draw(st.sampled_from(["", " ", "-", ".", "\u00a0"]))
    # People write groups of three or four digits; a last group of one or two digits after a dot
    # is how a spreadsheet ends a float ("….0"), which is refused on purpose.
    sizes = draw(st.lists(st.integers(3, 4), max_size=3))
    cuts = [cut for cut in (sum(sizes[: i + 1]) for i in range(len(sizes))) if cut <= len(national) - 3]
    groups = [national[a:b] for a, b in zip([0, *cuts], [*cuts, len(national)], strict=True)]
    return national, lead + separator.join(groups)


@settings(max_examples=300, deadline=None)
@given(written_forms())
@example(("8110000000", "0811.0000000"))  # a group of zeros is not a spreadsheet's float tail
def test_every_written_form_reads_back_exactly(form):
    national, written = form
    assert normalize_mobile(written) == "+62" + national


@settings(max_examples=300, deadline=None)
@given(written_forms(), st.sampled_from("OoIlSBZ"), st.data())
def test_a_letter_anywhere_is_refused_never_read_as_a_digit(form, letter, data):
    _national, written = form
    at = data.draw(st.integers(0, len(written)))
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile(written[:at] + letter + written[at:])
    assert caught.value.code == "phone_characters"
