"""URL converters: an id in a URL is a row id, so one that no id column can hold names nothing (404).

Werkzeug's `int` converter accepts any number of digits. Every id column here is an `Integer`: 32 bits on
PostgreSQL, which refuses a larger parameter ("integer out of range"), and SQLite cannot bind one beyond
2^63 - 1 (`OverflowError`); either was a 500. `register_converters` replaces `int` for the whole app, the
API and the pages alike, before the blueprints add their rules.
"""

from flask import Flask
from werkzeug.routing import IntegerConverter

#: The largest id an `Integer` primary key holds on both engines (PostgreSQL INTEGER is signed 32-bit).
MAX_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:…>` for ids: digits only, 0 to MAX_ID; anything larger does not match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter
