"""Letters of assignment (surat tugas) an RT head can check: the public page `/surat/<number>`.

A cadre's letter carries a number that is a signed token (the cadre's id and the day it was issued,
signed with the app's secret key): nobody can make up a valid number or walk through numbers, and no
table is needed. The letter is valid from the day it was issued for `ASSIGNMENT_LETTER_DAYS` days, and
only while the cadre's account is active and still a cadre: deactivating her revokes every letter she
printed. The page shows the cadre's name, the branch, the validity; never a participant.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta

import segno
from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from markupsafe import Markup

from telecollect.auth.models import Role, User
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.formatting import ZONES

bp = Blueprint("letters", __name__)
SALT = "surat-tugas"


@dataclass(frozen=True)
class Letter:
    number: str
    cadre_id: int
    issued: date

    @property
    def valid_until(self) -> date:
        return self.issued + timedelta(days=current_app.config["ASSIGNMENT_LETTER_DAYS"])


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(cadre: User, issued: date) -> Letter:
    """The letter a cadre prints on `issued` (her local day): the same number all day."""
    payload = f"{cadre.id}-{issued:%Y%m%d}"
    return Letter(_signer().sign(payload).decode(), cadre.id, issued)


def read(number: str) -> Letter | None:
    """The letter a number names, or None when the number was not made by this app."""
    if len(number) > 100:
        return None
    try:
        payload = _signer().unsign(number).decode()
        cadre_id, day = payload.split("-")
        return Letter(number, int(cadre_id), date(int(day[:4]), int(day[4:6]), int(day[6:])))
    except (BadSignature, ValueError):
        return None


def public_url(letter: Letter) -> str:
    """The checking page's address, as printed in the QR code (the app's public address)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("letters.check", number=letter.number)


def qr_svg(text: str) -> Markup:
    """`text` as an inline SVG QR code (no external service; printable, scannable by any phone)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, scale=4, border=2)
    return Markup(buffer.getvalue().decode())  # segno writes the SVG itself: nothing typed by a person is in it


#: What the checking page says.
VERDICTS = {
    "valid": _l("This letter is valid."),
    "expired": _l("This letter has expired."),
    "revoked": _l("This letter is no longer valid: the cadre no longer works for the branch."),
    "unknown": _l("This letter number is not one the branch issued."),
}


@bp.route("/surat/<path:number>")
def check(number):
    """Public: whether a letter of assignment is valid, for an RT head who scanned its QR code."""
    letter = read(number)
    cadre = db.session.get(User, letter.cadre_id) if letter is not None else None
    if letter is None or cadre is None:
        verdict = "unknown"
    else:
        today = now_utc().astimezone(ZONES[cadre.timezone]).date()
        if not cadre.is_active or cadre.role != Role.cadre:
            verdict = "revoked"
        elif letter.issued > today:
            verdict = "unknown"
        elif today > letter.valid_until:
            verdict = "expired"
        else:
            verdict = "valid"
    status = 404 if verdict == "unknown" else 200
    page = render_template(
        "letters/check.html",
        verdict=verdict,
        message=VERDICTS[verdict],
        letter=letter if verdict != "unknown" else None,
        cadre=cadre if verdict != "unknown" else None,
        branch=current_app.config["BRANCH_NAME"],
    )
    return page, status
