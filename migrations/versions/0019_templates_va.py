"""Templates with the virtual account and one-way SMS (issue 14, items 5, 6, 8): default template rows that were
never edited take the new defaults; cadres' WhatsApp opens are counted

The SMS defaults now name the family's virtual account ({va}) and where to ask or stop ({kontak}: the branch's
WhatsApp number or Care Center 165) instead of relying on replies (SMS to Indonesia is one-way), and fit one
GSM-7 segment. A stored row is replaced only while its body is still the previous default, byte for byte: a
supervisor's edit is never overwritten. The bodies are written out here (not imported) so that this revision
keeps meaning what it meant when it was written.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

#: key → (previous default, new default)
CHANGED = {
    "sms_due_reminder": (
        "Yth. {nama}, iuran JKN-KIS jatuh tempo {jatuh_tempo}. Bayar melalui {kanal}. "
        "Abaikan jika sudah membayar. BPJS Kesehatan",
        "Yth. {nama}, iuran JKN-KIS jatuh tempo {jatuh_tempo}. Bayar ke VA {va} (bank/ATM). "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "sms_promise_reminder": (
        "Yth. {nama}, terima kasih atas kesediaan membayar iuran JKN-KIS pada {tanggal_janji}. "
        "Bayar melalui {kanal}. BPJS Kesehatan",
        "Yth. {nama}, terima kasih atas janji bayar iuran JKN-KIS {tanggal_janji} ke VA {va}. "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "sms_promise_broken": (
        "Yth. {nama}, pembayaran iuran JKN-KIS yang direncanakan {tanggal_janji} belum kami terima. "
        "{rehab} Info: Care Center 165. BPJS Kesehatan",
        "Yth. {nama}, iuran JKN-KIS janji {tanggal_janji} belum masuk. VA {va}. Cicil: REHAB. "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "sms_installment_reminder": (
        "Yth. {nama}, cicilan REHAB JKN-KIS {cicilan} jatuh tempo {jatuh_tempo}. "
        "Bayar melalui {kanal}. BPJS Kesehatan",
        "Yth. {nama}, cicilan REHAB {cicilan} jatuh tempo {jatuh_tempo}, VA {va}. "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "sms_autodebit_prompt": (
        "Yth. {nama}, bayar iuran JKN-KIS otomatis tiap bulan dengan autodebit. {autodebit} BPJS Kesehatan",
        "Yth. {nama}, bayar iuran JKN-KIS otomatis tiap bulan: daftar autodebit di Mobile JKN. "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "sms_pre_call": (
        "Yth. {nama}, petugas BPJS Kesehatan {cabang} akan menghubungi Anda hari ini terkait iuran JKN-KIS.",
        "Yth. {nama}, petugas {cabang} menelepon Anda hari ini soal iuran JKN-KIS. Tanya/stop: {kontak}",
    ),
    "sms_info_reply": (
        "Tunggakan iuran JKN-KIS keluarga {nama}: {bulan} bulan, {jumlah}. Bayar melalui {kanal}. BPJS Kesehatan",
        "Tunggakan JKN-KIS {nama}: {bulan} bln, {jumlah}. VA {va} (bank/ATM/Mobile JKN). "
        "Tanya/stop: {kontak}. BPJS Kesehatan",
    ),
    "call_script": (
        "Selamat {salam}, benar saya berbicara dengan Bapak/Ibu {nama}? Saya {petugas} dari BPJS Kesehatan {cabang}. "
        "Iuran JKN-KIS keluarga Bapak/Ibu tertunggak {bulan} bulan, sebesar {jumlah}. "
        "Kapan Bapak/Ibu dapat membayar? Pembayaran hanya melalui {kanal}.\n"
        "Jika belum dapat melunasi sekaligus: {rehab}",
        "Selamat {salam}, benar saya berbicara dengan Bapak/Ibu {nama}? Saya {petugas} dari BPJS Kesehatan {cabang}. "
        "Iuran JKN-KIS keluarga Bapak/Ibu tertunggak {bulan} bulan, sebesar {jumlah}. "
        "Kapan Bapak/Ibu dapat membayar? Pembayaran hanya melalui {kanal}, ke virtual account {va}.\n"
        "Jika belum dapat melunasi sekaligus: {rehab}",
    ),
}

templates = sa.table("message_templates", sa.column("key", sa.String), sa.column("body", sa.Text))


def _swap(old_index: int) -> None:
    """Every row of a changed key whose body is still the other version takes this version."""
    new_index = 1 - old_index
    for key, bodies in CHANGED.items():
        op.execute(
            templates.update()
            .where(templates.c.key == key, templates.c.body == bodies[old_index])
            .values(body=bodies[new_index])
        )


def upgrade():
    _swap(0)
    op.create_table(
        "cadre_whatsapp_opens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_cadre_whatsapp_opens_family_id_families")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_cadre_whatsapp_opens_user_id_users")),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_cadre_whatsapp_opens_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cadre_whatsapp_opens")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_cadre_whatsapp_opens_idempotency_key")),
    )
    op.create_index("ix_cadre_whatsapp_opens_user_day", "cadre_whatsapp_opens", ["user_id", "opened_on"])


def downgrade():
    op.drop_index("ix_cadre_whatsapp_opens_user_day", table_name="cadre_whatsapp_opens")
    op.drop_table("cadre_whatsapp_opens")
    _swap(1)
