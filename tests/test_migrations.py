"""The schema the migrations build is the schema the models describe, on every engine."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from telecollect.partitions import POSTGRESQL_ONLY_DIFFERENCES, is_partition_name


def test_models_and_migrations_agree(db):
    """On PostgreSQL the monthly partitions, and what a partitioned table holds differently from the
    models (telecollect.partitions: a unique key and two foreign keys), are the only differences."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _not_a_partition})
        differences = compare_metadata(context, db.metadata)
        if connection.dialect.name == "postgresql":
            differences = [d for d in differences if _name(d) not in POSTGRESQL_ONLY_DIFFERENCES]
    assert differences == []


def _not_a_partition(name, type_, _parent_names) -> bool:
    return not (type_ == "table" and name is not None and is_partition_name(name))


def _name(difference) -> str | None:
    return getattr(difference[1], "name", None) if isinstance(difference, tuple) else None


def test_naming_convention_names_constraints(db):
    names = {c.name for c in db.metadata.tables["participants"].constraints}
    assert "uq_participants_card_no" in names
    assert "ck_participants_klass_range" in names
    assert "fk_participants_family_id_families" in names


def _round_trip(url: str) -> list[str]:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from telecollect import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        from telecollect.extensions import db

        upgrade()
        downgrade(revision="base")
        left = [name for name in inspect(db.engine).get_table_names() if name != "alembic_version"]
        upgrade()
        tables = inspect(db.engine).get_table_names()
        db.engine.dispose()
    assert left == []
    return tables


def test_migrations_go_down_to_base_and_up_again_on_sqlite(tmp_path):
    assert "work_items" in _round_trip(f"sqlite:///{tmp_path / 'round-trip.db'}")


def test_migrations_go_down_to_base_and_up_again_on_postgresql():
    import os

    import pytest
    from sqlalchemy import create_engine, text

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL (CI always does)")
    # Named after the test database, so that two suites on two databases never drop each other's.
    name = url.rsplit("/", 1)[1] + "_round_trip"
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert "work_items" in _round_trip(url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
