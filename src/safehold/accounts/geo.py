"""Approximate place from an IP address, computed on this server (no lookup service).

Swappable: ``SAFEHOLD_GEOLOCATOR`` names a class with ``locate(ip) -> str``.
The default reads the country data file shipped inside the geoip2fast package.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class GeoLocator(Protocol):
    def locate(self, ip: str) -> str:
        """The approximate place of ``ip`` (a country, or "Local network"); "" if unknown."""


class LocalCountryLocator:
    """Country-level place from geoip2fast's bundled data (IPv4)."""

    def __init__(self) -> None:
        from geoip2fast import GeoIP2Fast

        self._db = GeoIP2Fast(verbose=False)

    def locate(self, ip: str) -> str:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        if address.is_loopback or address.is_private or address.is_link_local:
            return _("Local network")
        result = self._db.lookup(str(address))
        code = getattr(result, "country_code", "") or ""
        if len(code) != 2 or not code.isalpha():
            return ""
        return str(result.country_name)


@functools.cache
def get_geolocator() -> GeoLocator:
    return import_string(settings.SAFEHOLD_GEOLOCATOR)()  # type: ignore[no-any-return]  # a configured class
