"""SMS adapters as an agency would plug them in (OHS_SMS_ADAPTER="tests.unit.notification.sms_gateway:make_sender"):
a factory returning an object with ``send(phone, text)``. Used by tests/unit/notification/test_delivery.py."""

from __future__ import annotations

SENT: list[tuple[str, str]] = []  # what make_sender's gateway was asked to send


class RecordingGateway:
    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


class DownGateway:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("gateway 503")


def make_sender() -> RecordingGateway:
    return RecordingGateway()


def make_down_sender() -> DownGateway:
    return DownGateway()


def make_nothing() -> object:
    return object()  # no send(phone, text): refused at start-up


def make_failing() -> RecordingGateway:
    raise RuntimeError("SMS_GATEWAY_KEY is not set")
