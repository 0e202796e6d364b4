"""Where SMS and WhatsApp messages go: nowhere (the outbox keeps them) or Twilio, through its official SDK.

WhatsApp goes through the same Messages API: `whatsapp:+62…` addresses, from TWILIO_WHATSAPP_FROM (or the
messaging service, when its sender pool holds the WhatsApp sender), an approved template by ContentSid with its
ContentVariables, or free text (Body) inside the 24-hour window."""

from dataclasses import dataclass
from datetime import date, datetime

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

STATUS_CALLBACK_PATH = "/twilio/sms/status"
WHATSAPP_PREFIX = "whatsapp:"


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


class OutcomeUnknown(Exception):
    """The request may have reached Twilio but no answer came back (a read timeout, a dropped connection):
    whether the message left is unknown, and only Twilio's list of messages can tell."""


@dataclass
class ListedMessage:
    """One outgoing message as Twilio lists it."""

    sid: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status: str
    created_at: datetime | None = None
    sent_at: datetime | None = None  #: None while Twilio still queues it
    segments: int | None = None
    price: str | None = None
    price_unit: str | None = None


class OutboxGateway:
    """SMS_BACKEND=outbox: nothing leaves the building; messages are held for people to see."""

    name = "outbox"

    def send(self, to: str, body: str, ref: str | None = None, **whatsapp) -> SendResult:
        return SendResult(status="held")

    def messages_to(self, to: str, days: list[date]) -> list[ListedMessage]:
        return []  # nothing ever leaves

    def is_ours(self, listed: ListedMessage) -> bool:
        return False

    def sender_of(self, channel: str) -> str:
        """Who a message on `channel` leaves from: here nobody (one outbox, whatever the branch)."""
        return self.name


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
        whatsapp_from = config.get("TWILIO_WHATSAPP_FROM") or ""
        if whatsapp_from and not whatsapp_from.startswith("whatsapp:"):
            whatsapp_from = "whatsapp:" + whatsapp_from
        self.whatsapp_sender = (
            {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
            if config.get("TWILIO_WHATSAPP_USE_MESSAGING_SERVICE") and config.get("TWILIO_MESSAGING_SERVICE_SID")
            else {"from_": whatsapp_from}
        )
        self.status_callback = config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_CALLBACK_PATH

    def sender_of(self, channel: str) -> str:
        """Who a message on `channel` leaves from (a messaging service's SID, or the From number): Twilio's
        rate limits are each sender's, so the dispatchers pace each sender on its own."""
        sender = self.whatsapp_sender if channel == "whatsapp" else self.sender
        return next(iter(sender.values()))

    def send(
        self,
        to: str,
        body: str,
        ref: str | None = None,
        *,
        channel: str = "sms",
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> SendResult:
        """Create the message; `ref` (the attempt's reference) rides in the StatusCallback URL.

        `channel` "whatsapp": to `whatsapp:<to>`, by `content_sid` with `content_variables` (a template), or
        `body` as free text when there is no Content SID.
        SendError: Twilio answered with an error, or the request never reached it (tried again later).
        OutcomeUnknown: the request may have reached Twilio but its answer did not come back.
        """
        callback = f"{self.status_callback}?ref={ref}" if ref else self.status_callback
        if channel == "whatsapp":
            what: dict = {"to": WHATSAPP_PREFIX + to, **self.whatsapp_sender}
            what |= (
                {"content_sid": content_sid, "content_variables": content_variables} if content_sid else {"body": body}
            )
        else:
            what = {"to": to, "body": body, **self.sender}
        try:
            message = self.client.messages.create(status_callback=callback, **what)
        except TwilioRestException as exc:
            raise SendError(exc.status, exc.code, exc.msg) from exc
        except Exception as exc:
            if never_reached_twilio(exc):  # like a 5xx: tried again later
                raise SendError(503, None, f"{type(exc).__name__}: {exc}") from exc
            raise OutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        return SendResult(
            status=message.status or "queued",
            sid=message.sid,
            segments=int(message.num_segments) if message.num_segments else None,
            price=str(message.price) if message.price is not None else None,
            price_unit=message.price_unit,
        )

    #: How many of the newest messages to a number are read for those Twilio still queues.
    NEWEST = 50

    def messages_to(self, to: str, days: list[date]) -> list[ListedMessage]:
        """The messages to `to` Twilio lists as sent on `days` (UTC days, as its DateSent filter reads them),
        every page, and those it still queues (no date sent yet, so in no DateSent list), from its newest
        page. Network and API errors propagate: the caller asks again later."""
        found = {}
        for day in days:
            for m in self.client.messages.list(to=to, date_sent=day.isoformat(), page_size=100):
                found[m.sid] = m
        for m in self.client.messages.list(to=to, limit=self.NEWEST, page_size=self.NEWEST):
            if m.date_sent is None:
                found[m.sid] = m
        return [
            ListedMessage(
                sid=m.sid,
                body=m.body or "",
                from_=m.from_,
                messaging_service_sid=m.messaging_service_sid,
                status=m.status or "",
                created_at=m.date_created,
                sent_at=m.date_sent,
                segments=int(m.num_segments) if m.num_segments else None,
                price=str(m.price) if m.price is not None else None,
                price_unit=m.price_unit,
            )
            for m in found.values()
        ]

    def is_ours(self, listed: ListedMessage) -> bool:
        """Whether a listed message left from our sender (our messaging service, or our number, or our
        WhatsApp sender)."""
        for sender in (self.sender, self.whatsapp_sender):
            if "messaging_service_sid" in sender and listed.messaging_service_sid == sender["messaging_service_sid"]:
                return True
            if sender.get("from_") and listed.from_ == sender["from_"]:
                return True
        return False


def never_reached_twilio(exc: Exception) -> bool:
    """A refused or timed-out connection sent nothing; anything later (a read timeout, a reset) may have."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)  # refused, unreachable, or no such host
    return False


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
