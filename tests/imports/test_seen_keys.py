"""A file's unique keys (a participant file's card numbers) are remembered on disk, not in memory."""

import tracemalloc

from telecollect.imports.runner import _SeenKeys


def test_a_key_is_new_once():
    seen = _SeenKeys()
    assert seen.first_time("0001234567890")
    assert seen.first_time("1234567890000")  # the same digits moved: another card
    assert seen.first_time("A-17")  # not all digits: kept as written
    assert not seen.first_time("0001234567890")
    assert not seen.first_time("A-17")


def test_remembering_many_keys_leaves_python_memory_flat():
    """200,000 card numbers: a Python set of them takes about 14 MB; remembered on disk, Python's own heap
    grows by nothing that stays (SQLite's page cache, bounded, is outside it)."""
    seen = _SeenKeys()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(200_000):
            assert seen.first_time(f"{number * 7919:013d}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000, f"{grown:,} bytes of Python memory kept for 200,000 keys"
