"""The error every service raises when a request cannot be carried out, and the JSON it becomes."""


def error_envelope(code: str, message: str, field: str | None = None) -> dict:
    """The one shape of every JSON error: `{"error": {"code", "message", "field"}}` (the API's and the
    error pages' answers to /api/ paths alike; the OpenAPI document describes it)."""
    return {"error": {"code": code, "message": message, "field": field}}


class ServiceError(Exception):
    """A refusal with a machine code, a readable message and, where it
    belongs to one input, the field. Views turn it into a form error or a
    JSON `{"error": {"code", "message", "field"}}`."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        return error_envelope(self.code, self.message, self.field)


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
