"""The schema the migrations build is the schema the models describe, on every engine."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_models_and_migrations_agree(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_naming_convention_names_constraints(db):
    names = {c.name for c in db.metadata.tables["participants"].constraints}
    assert "uq_participants_card_no" in names
    assert "ck_participants_klass_range" in names
    assert "fk_participants_family_id_families" in names
