"""``safehold exportschema``: print the JSON Schema of an export's data.json."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from safehold.rights import schema


class Command(BaseCommand):
    help = "Print the JSON Schema of data.json in 'download my data' (docs/export-schema.json)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(schema.build(), indent=2, ensure_ascii=False))
