"""'Download my data' and 'Delete my account': a few lines over the services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.rights import services
from safehold.rights.exceptions import CannotErase, ExportExpired, ExportNotAvailable
from safehold.rights.forms import DeleteAccountForm
from safehold.rights.models import Export


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required guarantees our user


def _site_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@login_required
@require_http_methods(["GET", "POST"])
def data(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        _export, created = services.request_export(
            user,
            actor=Actor.from_request(request),
            language=translation.get_language() or "en",
            site_url=_site_url(request),
        )
        if created:
            messages.success(
                request,
                _("We are preparing your archive. We will e-mail you when it is ready."),
            )
        else:
            messages.info(request, _("Your archive is already being prepared."))
        return redirect("rights_data")
    exports = list(Export.objects.filter(user=user)[:10])
    now = timezone.now()
    return render(
        request,
        "rights/data.html",
        {
            "exports": exports,
            "now": now,
            "pending": any(
                e.status in (Export.Status.QUEUED, Export.Status.BUILDING) for e in exports
            ),
            "link_days": settings.SAFEHOLD_EXPORT_LINK_DAYS,
        },
    )


@login_required
@require_GET
@reauthentication_required
def download(request: HttpRequest, public_id: UUID) -> HttpResponseBase:
    user = _user(request)
    export = get_object_or_404(Export, public_id=public_id, user=user)
    try:
        key = services.download_key(export, user)
    except ExportExpired:
        return render(request, "rights/expired.html", {"nav": "data"}, status=410)
    except ExportNotAvailable:
        raise Http404 from None
    try:
        source, chunks = services.archive_chunks(export, key)
    except FileNotFoundError:
        raise Http404 from None
    services.record_download(export, actor=Actor.from_request(request))

    def stream() -> Iterator[bytes]:
        try:
            yield from chunks  # type: ignore[misc]  # an iterator of bytes
        finally:
            source.close()

    response = StreamingHttpResponse(stream(), content_type="application/zip")
    assert export.ready_at is not None  # noqa: S101  # a ready export has its time
    name = f"{settings.SAFEHOLD_OPERATOR_NAME}-data-{export.ready_at:%Y-%m-%d}.zip"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def delete(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    grace_days = settings.SAFEHOLD_ERASURE_GRACE_DAYS
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            erasure, _created = services.request_erasure(user, actor=Actor.from_request(request))
        except CannotErase:
            error = _(
                "An administrator's account cannot be deleted here. Ask another administrator "
                "to remove your administrator rights first."
            )
        else:
            logout(request)
            when = formats.date_format(erasure.erase_after, "DATETIME_FORMAT")
            messages.warning(
                request,
                _(
                    "Your account will be deleted after %(when)s (UTC). You have been signed "
                    "out everywhere. If you change your mind, sign in before then."
                )
                % {"when": when},
            )
            return redirect("rights_delete_scheduled")
    return render(
        request,
        "rights/delete.html",
        {
            "form": form,
            "error": error,
            "grace_days": grace_days,
            "erase_after": timezone.now() + timedelta(days=grace_days),
        },
    )


@require_GET
def delete_scheduled(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "rights/delete_scheduled.html",
        {"grace_days": settings.SAFEHOLD_ERASURE_GRACE_DAYS},
    )
