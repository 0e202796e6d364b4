"""While a bulk job writes, SQLite gets a larger page cache, for its temporary tables too, and, for a job
that reads at random (a payment import), reads its file through a memory map; after, the connection is as
it was, whether the job ended or failed."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from telecollect.db import BULK_MAP_BYTES, bulk_write_cache

PRAGMAS = ("cache_size", "temp.cache_size", "mmap_size")


def _pragmas(session) -> dict:
    connection = session.connection()
    return {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in PRAGMAS}


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_bulk_write_gets_a_larger_cache_and_a_map_then_gives_them_back(session):
    before = _pragmas(session)
    with bulk_write_cache(session, 64, mapped=True):
        assert _pragmas(session) == {
            "cache_size": -64 * 1024,
            "temp.cache_size": -64 * 1024,
            "mmap_size": BULK_MAP_BYTES,
        }
    assert _pragmas(session) == before


def test_without_a_map_only_the_caches_grow(session):
    before = _pragmas(session)
    with bulk_write_cache(session, 32):
        during = _pragmas(session)
    assert during == {"cache_size": -32 * 1024, "temp.cache_size": -32 * 1024, "mmap_size": before["mmap_size"]}
    assert _pragmas(session) == before


def test_a_bulk_write_that_fails_gives_them_back_too(session):
    before = _pragmas(session)
    with pytest.raises(RuntimeError), bulk_write_cache(session, 64, mapped=True):
        raise RuntimeError("the file broke half-way")
    assert _pragmas(session) == before
