"""JSON bodies checked at the API's edge against the OpenAPI document, so the document and the server agree.

Each endpoint that reads a body calls `check_json("SchemaName")` first: the body must be what the document's
component schema says (types, enumerations, lengths, bounds, formats, required properties), else a 400
`ServiceError` naming the field. The rules of the domain (a promise's date range, the calling window) are
asked afterwards by the services; this only makes sure they receive the types they expect.

The validator knows the parts of JSON Schema the document uses (`type`, `enum`, `required`, `properties`,
`items`, `minLength`, `maxLength`, `minimum`, `maximum`, `pattern`, `format` date and date-time, `$ref`),
and a schema using another keyword fails loudly at the test, not silently in production.
"""

import math
import re
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from telecollect.api.openapi import openapi_document
from telecollect.auth.models import Role
from telecollect.errors import ServiceError

#: Keywords that describe rather than constrain.
DESCRIPTIVE = frozenset({"description", "title", "examples", "example", "default", "deprecated"})
KNOWN = DESCRIPTIVE | {
    "type",
    "enum",
    "required",
    "properties",
    "items",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "$ref",
}
TYPE_WORDS = {
    "string": _l("text"),
    "integer": _l("a whole number"),
    "number": _l("a number"),
    "boolean": _l("true or false"),
    "array": _l("a list"),
    "object": _l("an object"),
    "null": _l("null"),
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?")
FORMAT_EXAMPLES = {"date": "2026-12-31", "date-time": "2026-12-31T14:30:00+07:00"}


def check_json(schema_name: str) -> dict:
    """The request's JSON body, if it is what the document's `schema_name` describes for the caller's role;
    otherwise a 400 naming the first field that is not."""
    body = request.get_json(silent=True)
    role = current_user.role if current_user.is_authenticated else None
    validate(body, _schema(schema_name, role), _components(role), field=None)
    return body


@cache
def _document(role: Role | None) -> dict:
    return openapi_document(role)


def _components(role: Role | None) -> dict:
    return _document(role)["components"]["schemas"]


def _schema(name: str, role: Role | None) -> dict:
    return _components(role)[name]


def validate(value: Any, schema: dict, components: dict, *, field: str | None) -> None:
    """Raise `ServiceError` (400) naming `field` when `value` does not fit `schema`."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError(f"the validator does not know {sorted(unknown)}")
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, kind) for kind in allowed):
            if field is None:
                raise ServiceError("invalid_json")
            words = " / ".join(str(TYPE_WORDS[kind]) for kind in allowed)
            raise ServiceError("json_field_type", field, field_name=field, expected=words)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        raise ServiceError("json_field_choice", field, field_name=field, allowed=", ".join(map(str, schema["enum"])))
    if isinstance(value, str):
        _check_text(value, schema, field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, field)
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                raise ServiceError("json_field_required", name, field_name=name)
        for name, inner in schema.get("properties", {}).items():
            if name in value:
                validate(value[name], inner, components, field=name if field is None else f"{field}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate(item, schema["items"], components, field=f"{field}[{index}]")


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":  # JSON Schema: a number without a fractional part, 3.0 included
        return _is_type(value, "number") and float(value).is_integer()
    if kind == "number":  # JSON has no NaN or Infinity, though Python's reader takes them
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}[kind])


def _check_text(value: str, schema: dict, field: str | None) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise ServiceError("json_field_too_long", field, field_name=field, max=schema["maxLength"])
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise ServiceError("json_field_too_short", field, field_name=field, min=schema["minLength"])
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise ServiceError("json_field_pattern", field, field_name=field)
    kind = schema.get("format")
    if kind in FORMAT_EXAMPLES and not _is_format(value, kind):
        raise ServiceError("json_field_format", field, field_name=field, example=FORMAT_EXAMPLES[kind])


def _is_format(value: str, kind: str) -> bool:
    try:
        if kind == "date":
            return DATE.fullmatch(value) is not None and bool(date.fromisoformat(value))
        return DATE_TIME.fullmatch(value) is not None and bool(datetime.fromisoformat(value.upper()))
    except ValueError:
        return False


def _check_number(value: float, schema: dict, field: str | None) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise ServiceError("json_field_below", field, field_name=field, min=schema["minimum"])
    if "maximum" in schema and value > schema["maximum"]:
        raise ServiceError("json_field_above", field, field_name=field, max=schema["maximum"])
