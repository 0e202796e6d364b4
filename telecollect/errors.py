"""The error every service raises when a request cannot be carried out."""


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
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
