"""Contacts: where an employer, or a county's supervision mailbox, receives e-mail and SMS. What an
address must look like (pure rules, no I/O). Each check answers why a value is refused, or None."""

from __future__ import annotations

import re

EMAIL_LENGTH = 254  # RFC 5321: the longest path a mail server must accept
PHONE_LENGTH = 20

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PHONE = re.compile(r"\+?[0-9]{5,19}")


def email_problem(address: str) -> str | None:
    """Why ``address`` is not an e-mail address we can send to, or None. ASCII only: an internationalised
    domain is written in its xn-- form (most mail servers take no SMTPUTF8)."""
    if len(address) > EMAIL_LENGTH:
        return f"at most {EMAIL_LENGTH} characters ({len(address)} given)"
    if not address.isascii():
        return "must be ASCII (write an internationalised domain in its xn-- form)"
    if address.count("@") != 1:
        return "must be one local part, @, and a domain (e.g. zhang.san@example.cn)"
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.fullmatch(local):
        return "the part before @ must be 1–64 letters, digits or !#$%&'*+/=?^_`{|}~- with single dots between them"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return "the domain must be a name with at least one dot, of letters, digits and hyphens (e.g. example.cn)"
    return None


def phone_problem(number: str) -> str | None:
    """Why ``number`` is not a phone number for SMS, or None: digits, optionally after a leading +."""
    if len(number) > PHONE_LENGTH:
        return f"at most {PHONE_LENGTH} characters ({len(number)} given)"
    if not _PHONE.fullmatch(number):
        return "5 to 19 digits, optionally after a leading + (no spaces or dashes), e.g. 13800138000 or +8613800138000"
    return None
