"""The channels a notification goes out through, behind one interface (:class:`Channel`).

* the **web inbox**: every notification is in it (``GET /inbox``); nothing to deliver, so no channel here;
* :class:`EmailChannel`: e-mail over SMTP with the standard library (``smtplib``), configured by
  ``OHS_SMTP_URL`` — ``smtp://[user:password@]host:port[?starttls=true]`` or ``smtps://…`` (implicit TLS) —
  and ``OHS_MAIL_FROM``; unset, e-mail is off;
* :class:`SmsChannel`: whatever SMS gateway an agency has, plugged in as ``OHS_SMS_ADAPTER="module:factory"``:
  ``factory()`` returns an object with ``send(phone, text)`` (raising on failure). Unset, SMS is off.

A bad ``OHS_SMTP_URL`` or ``OHS_SMS_ADAPTER`` stops start-up with :class:`ChannelConfigError` saying what is
wrong. ``send`` blocks (it is called from the delivery job's thread, never from a request or a consumer) and
raises :class:`DeliveryFailed` — ``permanent`` when trying again cannot help (an address the server refuses).
"""

from __future__ import annotations

import importlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from shared import i18n
from shared.contracts import utc_now
from shared.settings import Settings

SMTP_TIMEOUT_S = 20.0


class ChannelConfigError(ValueError):
    """A channel's setting is unusable; the message names the setting and what is wrong."""


class DeliveryFailed(Exception):
    """A send that did not go through; ``permanent``: trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingNotification:
    """What a channel sends: the notification as its recipient reads it (worded in ``locale``)."""

    id: str
    subject: str
    body: str
    link: str
    locale: str = i18n.DEFAULT_LOCALE


@runtime_checkable
class Channel(Protocol):
    name: str  # "email" | "sms": the delivery rows' channel; the contact field addressing it: domain.delivery.ADDRESSED_BY

    def send(self, notification: OutgoingNotification, address: str) -> None:
        """Deliver to ``address`` (an e-mail address, a phone number), or raise :class:`DeliveryFailed`."""


# --------------------------------------------------------------------------- e-mail


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://
    starttls: bool
    username: str | None
    password: str | None = None

    def __repr__(self) -> str:  # never the password in a log
        return f"SmtpServer({'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}, starttls={self.starttls}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://[user:password@]host:port[?starttls=true]`` or ``smtps://…``; :class:`ChannelConfigError` says why not."""
    what = "OHS_SMTP_URL"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ChannelConfigError(f"{what}: {error}") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ChannelConfigError(f"{what}: the scheme must be smtp:// or smtps://, not {parts.scheme or 'none'}://")
    if not parts.hostname:
        raise ChannelConfigError(f"{what}: no host (write smtp://host:port)")
    if parts.path not in ("", "/"):
        raise ChannelConfigError(f"{what}: no path is expected after host:port (got {parts.path!r})")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ChannelConfigError(f"{what}: unknown parameter(s) {', '.join(unknown)} (only starttls=true|false)")
    starttls_text = (query.get("starttls") or ["false"])[-1].lower()
    if starttls_text not in ("true", "false", "1", "0", "yes", "no"):
        raise ChannelConfigError(f"{what}: starttls must be true or false, not {starttls_text!r}")
    starttls = starttls_text in ("true", "1", "yes")
    implicit = parts.scheme == "smtps"
    if implicit and starttls:
        raise ChannelConfigError(f"{what}: smtps:// is TLS from the start; starttls=true goes with smtp://")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ChannelConfigError(f"{what}: a password without a user name")
    return SmtpServer(parts.hostname, port or (465 if implicit else 25), implicit, starttls, username, password)


def email_message(notification: OutgoingNotification, sender: str, address: str) -> EmailMessage:
    """The e-mail of a notification: UTF-8 subject (RFC 2047) and body, and a Message-ID made of the
    notification's id, so a server or client can tell a resend from a new message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(idstring=notification.id, domain="ohs.notification")
    message["X-OHS-Notification-Id"] = notification.id
    link = "\n\n" + i18n.text("notification.text.email.link", {"link": notification.link}, notification.locale) if notification.link else ""
    message.set_content(notification.body + link, charset="utf-8", cte="base64")  # 7-bit on the wire: any server takes it
    return message


class EmailChannel:
    """E-mail over SMTP (``smtplib``): one connection per message, TLS when the URL asks for it."""

    name = "email"

    def __init__(self, server: SmtpServer, sender: str, timeout_s: float = SMTP_TIMEOUT_S):
        self.server, self.sender, self.timeout_s = server, sender, timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> "EmailChannel":
        if not settings.smtp_url:
            raise ChannelConfigError("OHS_SMTP_URL is not set")
        return cls(parse_smtp_url(settings.smtp_url), settings.mail_from)

    def send(self, notification: OutgoingNotification, address: str) -> None:
        message = email_message(notification, self.sender, address)
        server = self.server
        try:
            if server.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout_s, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout_s)
            with smtp:
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if server.username:
                    smtp.login(server.username, server.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryFailed(f"the SMTP server refused {address}: {error.recipients}", permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
            raise DeliveryFailed(f"SMTP {error.smtp_code}: {text}", permanent=error.smtp_code >= 500 and
                                 not isinstance(error, smtplib.SMTPAuthenticationError)) from None
        except (OSError, smtplib.SMTPException) as error:  # refused, unreachable, timed out, TLS, disconnected
            raise DeliveryFailed(f"SMTP server {server.host}:{server.port}: {type(error).__name__}: {error}") from None
        if refused:
            raise DeliveryFailed(f"the SMTP server refused {address}: {refused}", permanent=True)


# --------------------------------------------------------------------------- SMS


class SmsChannel:
    """SMS through the agency's gateway (its adapter's ``send(phone, text)``): the subject is the text."""

    name = "sms"

    def __init__(self, adapter: Any, spec: str = ""):
        self.adapter, self.spec = adapter, spec

    def send(self, notification: OutgoingNotification, address: str) -> None:
        try:
            self.adapter.send(address, notification.subject)
        except DeliveryFailed:
            raise
        except Exception as error:  # noqa: BLE001 - whatever the gateway raises is this attempt's failure
            raise DeliveryFailed(f"SMS adapter {self.spec}: {type(error).__name__}: {error}") from None


def load_sms_adapter(spec: str) -> SmsChannel:
    """The SMS channel of ``OHS_SMS_ADAPTER="module:factory"``; :class:`ChannelConfigError` when the module
    cannot be imported, the factory is missing or fails, or what it returns has no ``send(phone, text)``."""
    what = f"OHS_SMS_ADAPTER {spec!r}"
    module_name, sep, factory_name = spec.strip().partition(":")
    if not sep or not module_name or not factory_name:
        raise ChannelConfigError(f"{what}: write it as module:factory (e.g. agency_sms.gateway:make_sender)")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - ImportError, or the module's own failure at import
        raise ChannelConfigError(f"{what}: cannot import {module_name}: {type(error).__name__}: {error}") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ChannelConfigError(f"{what}: {module_name} has no callable {factory_name}")
    try:
        adapter = factory()
    except Exception as error:  # noqa: BLE001 - the factory's own failure (missing credentials …)
        raise ChannelConfigError(f"{what}: {factory_name}() failed: {type(error).__name__}: {error}") from None
    if not callable(getattr(adapter, "send", None)):
        raise ChannelConfigError(f"{what}: {factory_name}() returned {type(adapter).__name__}, which has no send(phone, text)")
    return SmsChannel(adapter, spec)


def build_channels(settings: Settings) -> dict[str, Channel]:
    """The channels the settings turn on (e-mail by OHS_SMTP_URL, SMS by OHS_SMS_ADAPTER), by name;
    :class:`ChannelConfigError` for a bad setting (start-up stops)."""
    channels: dict[str, Channel] = {}
    if settings.smtp_url:
        channels["email"] = EmailChannel.from_settings(settings)
    if settings.sms_adapter:
        channels["sms"] = load_sms_adapter(settings.sms_adapter)
    return channels
