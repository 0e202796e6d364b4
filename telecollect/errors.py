"""The error every service raises when a request cannot be carried out, and the JSON it becomes."""

from typing import Any

from telecollect.reasons import Refusal, describe


def error_envelope(code: str, message: str, field: str | None = None) -> dict:
    """The one shape of every JSON error: `{"error": {"code", "message", "field"}}` (the API's and the
    error pages' answers to /api/ paths alike; the OpenAPI document describes it)."""
    return {"error": {"code": code, "message": message, "field": field}}


class ServiceError(Exception):
    """A refusal with a machine code, its parameters and, where it belongs to one input, the field.

    Services say *why* as a code with parameters (`ServiceError("plan_exists", field="installments")`);
    the sentence lives in `telecollect.reasons.REASONS` and is put into words only when the edge
    reads `message`, in the language of whoever reads it. `label`, a code too, names what was refused
    when the reason is a value's (`label="field_promise_amount"` gives "Promised amount: must be more than 0").
    Views turn it into a form error or a JSON `{"error": {"code", "message", "field"}}`."""

    status = 400

    def __init__(self, code: str, /, field: str | None = None, *, label: str | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.field = field
        self.label = label
        self.params = params

    @classmethod
    def of(cls, refusal: Refusal, field: str | None = None, *, label: str | None = None) -> "ServiceError":
        """A value's refusal (money, phones, dates) as the refusal of a request's field."""
        return cls(refusal.code, field, label=label, **refusal.params)

    @property
    def message(self) -> str:
        reason = describe(self.code, self.params)
        if self.label is None:
            return reason
        return describe("labelled", {"label": describe(self.label, {}), "reason": reason})

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict:
        return error_envelope(self.code, self.message, self.field)


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    """A throttled request (429): `retry_after` seconds until the window ends, for a `Retry-After` header."""

    status = 429

    def __init__(self, code: str, /, *, retry_after: int, **params: Any):
        super().__init__(code, None, seconds=retry_after, **params)
        self.retry_after = retry_after
