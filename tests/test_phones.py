"""Mobile number parsing: the fast path agrees with libphonenumber."""
import random

import pytest

from telecollect.phones import InvalidPhone, is_mobile_number, mask_phone, normalize_mobile, wa_digits


def test_fast_path_agrees_with_the_full_check_on_random_numbers():
    rng = random.Random(7)
    disagreements = []
    for _ in range(5000):
        national = str(rng.choice([8, 8, 8, 2, 3, 5, 6, 7, 9])) + "".join(
            str(rng.randint(0, 9)) for _ in range(rng.randint(6, 12)))
        try:
            fast = normalize_mobile("0" + national) is not None
        except InvalidPhone:
            fast = False
        if fast != is_mobile_number("+62" + national):
            disagreements.append(national)
    assert disagreements == []


@pytest.mark.parametrize("written", ["0812-3456-7890", "+62 812-3456-7890", "62 812 3456 7890", "812 3456 7890"])
def test_usual_forms_normalise_to_e164(written):
    assert normalize_mobile(written) == "+6281234567890"


@pytest.mark.parametrize("written, reason", [
    ("(021) 555-1234", "not a valid Indonesian mobile number"),
    ("+65 8123 4567", "not an Indonesian number"),
    ("halo", "not a phone number"),
])
def test_rejections_say_why(written, reason):
    with pytest.raises(InvalidPhone, match=reason):
        normalize_mobile(written)


def test_masking_and_whatsapp_digits():
    assert mask_phone("+6281234567890") == "+62812•••••890"
    assert wa_digits("+6281234567890") == "6281234567890"
