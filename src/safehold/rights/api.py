"""``/api/v1/export``: the operator's other systems start an export for a person.

The person is named by their Safehold user id (``user_id``), the account's number:
never by e-mail address, which the caller might have wrong or out of date and which
would make this a way to probe who has an account. The archive always goes to the
person (an e-mail when it is ready, a download after a fresh sign-in), never to the
caller: the API says only how the export is going.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.utils import translation
from ninja import Router, Schema, Status
from pydantic import Field

from safehold.api.auth import api_auth
from safehold.api.exceptions import ApiProblem
from safehold.api.idempotency import idempotent
from safehold.api.schemas import InputSchema
from safehold.api.scopes import Scope
from safehold.api.services import api_actor, record_api_read
from safehold.rights import services
from safehold.rights.exceptions import PersonNotFound
from safehold.rights.models import Export

router = Router(tags=["Your data"])


class ExportNotFound(ApiProblem):
    code = "not_found"


class ExportForbidden(ApiProblem):
    code = "forbidden"


class ExportIn(InputSchema):
    user_id: int = Field(
        ge=1,
        le=2**63 - 1,
        description="The person's Safehold user id. With the signed-in session, only the "
        "person's own.",
    )


class ExportOut(Schema):
    id: UUID = Field(description="The export's id, for GET /api/v1/export/{id}.")
    user_id: int
    status: str = Field(description="queued, building, ready, failed or expired.")
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None = Field(description="When the download link expires.")
    downloaded: bool


def _out(export: Export) -> dict[str, object]:
    return {
        "id": export.public_id,
        "user_id": export.user_id,
        "status": export.status,
        "requested_at": export.requested_at,
        "ready_at": export.ready_at,
        "expires_at": export.expires_at,
        "downloaded": export.downloaded_at is not None,
    }


def _session_user_id(request: HttpRequest) -> int | None:
    caller = getattr(request, "auth", None)
    return getattr(caller, "user_id", None) if getattr(caller, "kind", "") == "session" else None


@router.post(
    "",
    response={202: ExportOut},
    summary="Start an export of a person's data",
    auth=api_auth(Scope.EXPORT_REQUEST, session=True),
)
@idempotent
def start_export(request: HttpRequest, payload: ExportIn) -> Status:
    """Queue an archive of everything held about the person `user_id`. The person is
    e-mailed when it is ready and downloads it after signing in again; the caller
    gets only the status. If an export of that person is already waiting or being
    built, that one is answered (also 202). An unknown, inactive or erased person is
    404 `not_found`. With the signed-in session, `user_id` may only be the person's own
    (403 `forbidden` otherwise)."""
    own = _session_user_id(request)
    user_id = payload.user_id
    if own is not None and user_id != own:
        raise ExportForbidden("A signed-in person may export only their own data.")
    try:
        user = services.find_person(user_id)
        export, _created = services.request_export(
            user,
            actor=api_actor(request),
            via=Export.Via.API,
            language=translation.get_language() or "en",
            site_url=f"{request.scheme}://{request.get_host()}",
        )
    except PersonNotFound:
        raise ExportNotFound("No active person has this user_id.") from None
    return Status(202, _out(export))


@router.get(
    "/{export_id}",
    response={200: ExportOut},
    summary="How an export is going",
    auth=api_auth(Scope.EXPORT_REQUEST, session=True),
)
def export_status(request: HttpRequest, export_id: UUID) -> dict[str, object]:
    """The status of the export `export_id` (from POST /api/v1/export)."""
    export = Export.objects.select_related("user").filter(public_id=export_id).first()
    own = _session_user_id(request)
    if export is None or (own is not None and export.user_id != own):
        raise ExportNotFound("No export has this id.")
    if own is None:
        record_api_read(request, subject=export.user, operation="export_status")
    return _out(export)
