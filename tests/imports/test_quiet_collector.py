"""While an import runs, Python's garbage collector passes over the objects the process held before it and
runs less often; when the last import ends, the collector is as it was, whether the imports landed or
failed, one after another or at once."""

import gc
import threading

import pytest

from telecollect.imports.runner import _QuietCollector
from tests.helpers import csv_bytes, row, run_import


@pytest.fixture
def collector():
    before = gc.get_threshold()
    yield _QuietCollector()
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_collector_is_quiet_during_an_import_and_restored_after(collector):
    before = gc.get_threshold()
    kept = [object() for _ in range(10)]  # noqa: F841 - held across the import
    with collector.quieted():
        assert gc.get_threshold() == _QuietCollector.THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_import_that_fails_restores_the_collector_too(collector):
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector.quieted():
        raise RuntimeError("the file broke half-way")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_imports_at_once_restore_the_collector_when_the_last_one_ends(collector):
    """Two imports in two threads of one process: the first to end leaves the collector quiet for the
    other; the second restores it."""
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with collector.quieted():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with collector.quieted():
            second_in.set()
            first_out.wait(5)
            seen["while the second runs"] = (gc.get_threshold(), gc.get_freeze_count() > 0)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["while the second runs"] == (_QuietCollector.THRESHOLDS, True)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_import_runs_with_the_collector_quiet(db):
    """Seen from inside a real import (its progress callback), and after it."""
    before = gc.get_threshold()
    during = []
    report = run_import(
        db,
        csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 4)]),
        on_batch=lambda: during.append((gc.get_threshold(), gc.get_freeze_count() > 0)),
    )
    assert report.created == 3
    assert during and set(during) == {(_QuietCollector.THRESHOLDS, True)}
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
