"""Safehold's allauth adapter: allauth's flows, in the operator's name."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Send through allauth, naming the operator (not the bare host name) as the site."""
        request = allauth_context.request
        domain = request.get_host() if request is not None else "localhost"
        context.setdefault(
            "current_site", SimpleNamespace(name=settings.SAFEHOLD_OPERATOR_NAME, domain=domain)
        )
        context.setdefault("operator_name", settings.SAFEHOLD_OPERATOR_NAME)
        context.setdefault("contact_email", settings.SAFEHOLD_CONTACT_EMAIL)
        super().send_mail(template_prefix, email, context)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP as allauth sees it (honouring SAFEHOLD_TRUSTED_PROXY_COUNT), or None.

    Worked out once per request (the rate limit and the audit actor both ask)."""
    from allauth.account.adapter import get_adapter

    if hasattr(request, "_safehold_client_ip"):
        return str(request._safehold_client_ip) if request._safehold_client_ip else None
    try:
        ip: str | None = str(get_adapter(request).get_client_ip(request))
    except Exception:
        ip = None
    request._safehold_client_ip = ip  # type: ignore[attr-defined]  # our cache on the request
    return ip
