"""This app's routes of the HTTP API, mounted by safehold.api under /api/v1/."""

from ninja import Router

router = Router(tags=["Privacy statement"])
