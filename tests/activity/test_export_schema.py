"""Every activity exporter's rows validate against the schema it documents."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from safehold.core import registry
from tests.activity.test_payments import _pay

pytestmark = pytest.mark.django_db


def test_rows_validate_against_their_schemas(alice, client, sign_in) -> None:
    sign_in(client)
    client.get("/account/activity/")
    _pay(client)
    _pay(client, number="4000000000000002")  # declined
    seen = {}
    for exporter in registry.exporters():
        if exporter.name not in ("access_records", "devices", "payments"):
            continue
        validator = Draft202012Validator(exporter.schema, format_checker=FormatChecker())
        rows = list(exporter.rows(alice))
        for row in rows:
            validator.validate(json.loads(json.dumps(row)))  # JSON-ready as it is
        seen[exporter.name] = len(rows)
    assert seen["devices"] == 1
    assert seen["payments"] == 2
    assert seen["access_records"] >= 3  # the sign-in and the pages visited
    payments = next(e for e in registry.exporters() if e.name == "payments")
    with pytest.raises(ValidationError, match="is a required property"):
        Draft202012Validator(payments.schema).validate({"time": "x"})
