"""Arrears by kecamatan with two branches: each branch's last import is compared with its own previous one,
and an import's stored totals count only its own branch's participants."""

from sqlalchemy import func, select

from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch
from telecollect.branches.stamping import act_in_branch
from telecollect.reports.dashboard import arrears_by_district_with_change
from telecollect.reports.models import ArrearsDistrictTotal
from tests.helpers import csv_bytes, row, run_import

KOJA = "Koja — Kota Administrasi Jakarta Utara"


def _import_in(db, branch_id: int, rows) -> None:
    act_in_branch(db.session(), branch_id)
    run_import(db, csv_bytes(rows))
    act_in_branch(db.session(), None)
    db.session.commit()


def test_each_branch_is_compared_with_its_own_previous_import_and_summed_per_kecamatan(db):
    first = db.session.scalar(select(Branch.id).where(Branch.code == FIRST_BRANCH_CODE))
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA").id
    db.session.commit()
    a1, a2, b1, b2 = "0000000000001", "0000000000002", "0000000000008", "0000000000009"
    _import_in(
        db,
        first,
        [
            row(card_no=a1, kecamatan="Koja", arrears_amount="100000"),
            row(card_no=a2, family_id="F2", phone="081200000002", kecamatan="Koja", arrears_amount="50000"),
        ],
    )
    _import_in(db, first, [row(card_no=a1, kecamatan="Koja", arrears_amount="0", months_in_arrears="0")])
    _import_in(
        db,
        makassar,
        [
            row(card_no=b1, family_id="F8", phone="081200000008", kecamatan="Koja", arrears_amount="30000"),
            row(card_no=b2, family_id="F9", phone="081200000009", kecamatan="Koja", arrears_amount="70000"),
        ],
    )
    _import_in(
        db,
        makassar,
        [
            row(
                card_no=b1,
                family_id="F8",
                phone="081200000008",
                kecamatan="Koja",
                arrears_amount="0",
                months_in_arrears="0",
            )
        ],
    )
    # Makassar's last import counted Makassar's participants only (Jakarta Utara's Rp50.000 is not its).
    last = db.session.scalar(select(func.max(ArrearsDistrictTotal.import_run_id)))
    stored = db.session.execute(
        select(ArrearsDistrictTotal.participants, ArrearsDistrictTotal.amount).where(
            ArrearsDistrictTotal.import_run_id == last
        )
    ).all()
    assert [tuple(r) for r in stored] == [(1, 70_000)]
    # Seen across both branches: each lost one participant (Rp100.000 and Rp30.000) since its own previous import.
    panel = {
        r["kecamatan"]: (r["participants"], r["arrears_amount"], r["participants_change"], r["amount_change"])
        for r in arrears_by_district_with_change(db.session)
    }
    assert panel == {KOJA: (2, 120_000, -2, -130_000)}
