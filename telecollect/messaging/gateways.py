"""Where SMS go: nowhere (the outbox keeps them) or Twilio, through its official SDK."""

from dataclasses import dataclass

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

STATUS_CALLBACK_PATH = "/twilio/sms/status"


@dataclass
class SendResult:
    status: str  #: Twilio's status word, or "held"
    sid: str | None = None
    segments: int | None = None
    price: str | None = None
    price_unit: str | None = None


class SendError(Exception):
    """Twilio refused or failed; `status` is the HTTP status, `code` Twilio's error code."""

    def __init__(self, status: int, code: int | None, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OutboxGateway:
    """SMS_BACKEND=outbox: nothing leaves the building; messages are held for people to see."""

    name = "outbox"

    def send(self, to: str, body: str) -> SendResult:
        return SendResult(status="held")


class TwilioGateway:
    """SMS_BACKEND=twilio: the official SDK, optionally pointed at another API host."""

    name = "twilio"

    def __init__(self, config: dict):
        self.client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=TwilioHttpClient(timeout=config["TWILIO_TIMEOUT_SECONDS"]),
        )
        if config.get("TWILIO_API_BASE_URL"):
            self.client.api.base_url = config["TWILIO_API_BASE_URL"].rstrip("/")
        self.sender = (
            {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
            if config.get("TWILIO_MESSAGING_SERVICE_SID")
            else {"from_": config["TWILIO_FROM_NUMBER"]}
        )
        self.status_callback = config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_CALLBACK_PATH

    def send(self, to: str, body: str) -> SendResult:
        try:
            message = self.client.messages.create(to=to, body=body, status_callback=self.status_callback, **self.sender)
        except TwilioRestException as exc:
            raise SendError(exc.status, exc.code, exc.msg) from exc
        except Exception as exc:  # network errors: treated like a 5xx, tried again later
            raise SendError(503, None, f"{type(exc).__name__}: {exc}") from exc
        return SendResult(
            status=message.status or "queued",
            sid=message.sid,
            segments=int(message.num_segments) if message.num_segments else None,
            price=str(message.price) if message.price is not None else None,
            price_unit=message.price_unit,
        )


def gateway_from_config(config: dict):
    """The gateway the settings ask for; a half-configured Twilio stops the app at start."""
    backend = config.get("SMS_BACKEND", "outbox")
    if backend == "outbox":
        return OutboxGateway()
    if backend != "twilio":
        raise ValueError(f"SMS_BACKEND must be outbox or twilio, got {backend!r}")
    missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(k)]
    if not (config.get("TWILIO_MESSAGING_SERVICE_SID") or config.get("TWILIO_FROM_NUMBER")):
        missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
    if missing:
        raise ValueError(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
    return TwilioGateway(config)
