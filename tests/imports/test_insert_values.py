"""Rows written around the ORM go through each column's bind processor, once per distinct value, and a value
that cannot be remembered (unhashable) is still converted."""

from datetime import date

from telecollect.db import _Memo


def test_each_distinct_value_is_converted_once():
    calls = []

    def process(value):
        calls.append(value)
        return value.isoformat()

    memo = _Memo(process)
    days = [date(2024, 2, 1), date(2024, 2, 2), date(2024, 2, 1)] * 1000
    assert memo.column(days) == ["2024-02-01", "2024-02-02", "2024-02-01"] * 1000
    assert calls == [date(2024, 2, 1), date(2024, 2, 2)]


def test_an_unhashable_value_is_converted_as_it_is():
    memo = _Memo(lambda value: repr(value))
    assert memo.column([{"a": 1}, ["b"], "c"]) == ["{'a': 1}", "['b']", "'c'"]
