"""Masked forms of personal data, for staff screens."""

from __future__ import annotations

from safehold.vault.fields import is_erased


def _keep(text: str, head: int) -> str:
    return text[:head] + "***" if text else ""


def mask_email(email: str | None) -> str:
    """j***@e***.com"""
    if not email or is_erased(email):
        return str(email or "")
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        return f"{_keep(local, 1)}@{_keep(domain, 1)}"
    return f"{_keep(local, 1)}@{_keep(name, 1)}.{tld}"


def mask_phone(e164: str | None) -> str:
    """+86 *** **** 1234 (country code and last four digits)."""
    if not e164 or is_erased(e164):
        return str(e164 or "")
    import phonenumbers

    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "***" + e164[-2:]
    national = str(number.national_number)
    return f"+{number.country_code} *** **** {national[-4:]}"


def mask_text(text: str | None) -> str:
    """The first character of each word: "Alice Wong" -> "A**** W***"."""
    if not text or is_erased(text):
        return str(text or "")
    return " ".join(word[0] + "*" * (len(word) - 1) for word in text.split())


def mask_ip(ip: str | None) -> str:
    """114.114.*.* / 2001:db8:*"""
    if not ip or is_erased(ip):
        return str(ip or "")
    if ":" in ip:
        return ":".join(ip.split(":")[:2]) + ":*"
    parts = ip.split(".")
    return ".".join([*parts[:2], "*", "*"])
