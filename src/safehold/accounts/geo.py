"""Approximate place from an IP address, computed on this server (no lookup service).

Swappable: ``SAFEHOLD_GEOLOCATOR`` names a class with ``locate(ip) -> str``.
The default reads the country data file shipped inside the geoip2fast package.
What is stored is a code (a country code, or ``local``), so that the place is shown
in the reader's language, whatever language was in use when it was recorded.
"""

from __future__ import annotations

import functools
import gettext
import ipaddress
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

LOCAL = "local"


class GeoLocator(Protocol):
    def locate(self, ip: str) -> str:
        """An ISO 3166-1 alpha-2 country code, ``"local"`` for a private network, or ``""``."""


class LocalCountryLocator:
    """Country of an IPv4 address from geoip2fast's bundled data."""

    def __init__(self) -> None:
        from geoip2fast import GeoIP2Fast

        self._db = GeoIP2Fast(verbose=False)

    def locate(self, ip: str) -> str:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        if address.is_loopback or address.is_private or address.is_link_local:
            return LOCAL
        code = str(getattr(self._db.lookup(str(address)), "country_code", "") or "")
        return code.upper() if len(code) == 2 and code.isalpha() else ""


@functools.cache
def get_geolocator() -> GeoLocator:
    return import_string(settings.SAFEHOLD_GEOLOCATOR)()  # a configured class


@functools.cache
def _country_names(locale: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[locale, locale.split("_")[0]], fallback=True
    )


def place_name(code: str) -> str:
    """The place a code stands for, in the active language; "" if unknown."""
    if not code:
        return ""
    if code == LOCAL:
        return _("Local network")
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return ""
    language = get_language() or "en"
    locale = "zh_CN" if language.startswith("zh") else to_locale(language)
    return _country_names(locale).gettext(country.name)
