"""Consent fixtures: a fresh view of the categories for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from safehold.api import origins
from safehold.consent import services
from tests.api.conftest import make_key  # noqa: F401  # the API's key fixture
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # browser fixtures


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    services.clear_config()
    origins.forget()
    yield
    services.clear_config()
    origins.forget()


def event_types() -> list[str]:
    from safehold.audit.models import Event

    return list(Event.objects.order_by("seq").values_list("event_type", flat=True))


@pytest.fixture
def default_categories(transactional_db) -> None:  # type: ignore[no-untyped-def]
    """The four default categories, as the data migration installs them (a transactional
    test's flush removes them)."""
    import importlib

    from safehold.consent.models import Category

    defaults = importlib.import_module("safehold.consent.migrations.0002_default_categories")
    for values in defaults.DEFAULTS:
        Category.objects.update_or_create(slug=values["slug"], defaults=values)
    services.clear_config()
