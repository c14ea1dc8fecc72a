"""The JSON Schema of ``data.json``, built from the registered exporters' row schemas.

``docs/export-schema.json`` is this schema for the exporters Safehold ships;
``safehold exportschema`` prints it (tests/rights/test_schema.py checks the file is
up to date).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import translation

from safehold.core import registry

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def build(exporters: Iterable[registry.Exporter] | None = None) -> dict[str, Any]:
    """The schema of ``data.json`` for ``exporters`` (default: every registered one)."""
    parts = list(exporters if exporters is not None else registry.exporters())
    with translation.override("en"):
        sections = {
            part.name: {
                "type": "object",
                "description": str(part.description),
                "additionalProperties": False,
                "required": ["description", "rows", "count"],
                "properties": {
                    "description": {"type": "string"},
                    "rows": {"type": "array", "items": part.schema},
                    "count": {"type": "integer", "minimum": 0},
                },
            }
            for part in parts
        }
    return {
        "$schema": DIALECT,
        "title": "Safehold export: data.json",
        "description": (
            "Everything Safehold holds about one person, as written to data.json in the "
            "archive of 'Download my data'. Each section is one kind of record; its rows "
            "follow the section's item schema. See docs/your-data.md."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "generated_at", "operator", "person", "sections"],
        "properties": {
            "format": {"const": "safehold-export/1"},
            "generated_at": {"type": "string", "format": "date-time"},
            "operator": {"type": "string", "description": "The operator's name."},
            "person": {
                "type": "object",
                "additionalProperties": False,
                "required": ["user_id"],
                "properties": {"user_id": {"type": "integer"}},
            },
            "sections": {
                "type": "object",
                "additionalProperties": False,
                "required": sorted(sections),
                "properties": sections,
            },
        },
    }
