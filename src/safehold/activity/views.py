"""The activity pages of the account centre: a few lines over the services."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from safehold.accounts.models import User
from safehold.activity import services
from safehold.activity.exceptions import DeviceNotFound, InvalidCard, PaymentUnavailable
from safehold.activity.forms import ActivityFilterForm, PaymentForm, RenameDeviceForm
from safehold.activity.models import AccessRecord, Device, Payment

PAGE_SIZE = 50

#: The payment form's card fields: hidden from error reports and logs.
CARD_FIELDS = ("card_number", "expiry", "cvc")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required guarantees our user


def centre_context(request: HttpRequest) -> dict[str, object]:
    """The account overview's card: previous sign-in, recent failures, devices, payments."""
    user = _user(request)
    sign_ins = services.access_records(user, kind=AccessRecord.Kind.SIGN_IN)[:2]
    previous = sign_ins[1] if len(sign_ins) > 1 else None
    if previous is not None:
        previous.user = user
    month_ago = timezone.now() - timedelta(days=30)
    return {
        "previous_sign_in": previous,
        "recent_failures": services.access_records(
            user, kind=AccessRecord.Kind.SIGN_IN_FAILED, since=month_ago
        ).count(),
        "device_count": Device.objects.filter(user=user).count(),
        "payment_count": services.payments_of(user).count(),
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The person's access records, filtered by kind, result and date, 50 to a page."""
    user = _user(request)
    form = ActivityFilterForm(request.GET or None)
    records = services.access_records(user)
    if form.is_bound and form.is_valid():
        since, until = form.bounds()
        records = services.access_records(
            user,
            kind=form.cleaned_data["kind"],
            result=form.cleaned_data["result"],
            since=since,
            until=until,
        )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.user = user  # opened under the owner's key without a query per row
    return render(
        request,
        "activity/activity.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "retention_days": settings.SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS,
            "nav": "activity",
        },
    )


@login_required
def payments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(services.payments_of(user), PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.user = user
        row.display_amount = services.format_amount(row.amount_minor, row.currency)
    return render(request, "activity/payments.html", {"page": page, "nav": "payments"})


_CARD_MESSAGES = {
    "number": (
        "card_number",
        gettext_lazy("That card number is not valid. Check it and try again."),
    ),
    "brand": ("card_number", gettext_lazy("That card is not one we can take. Try another card.")),
    "expiry": ("expiry", gettext_lazy("That expiry date has passed or is not valid.")),
    "cvc": ("cvc", gettext_lazy("That security code is not valid for this card.")),
}


@sensitive_post_parameters(*CARD_FIELDS)
@sensitive_variables("form", "card")
@login_required
@require_http_methods(["GET", "POST"])
def new_payment(request: HttpRequest) -> HttpResponse:
    """Pay a sum with a card. The card goes to the processor; only its token is kept."""
    user = _user(request)
    if request.method != "POST":
        form = PaymentForm(initial={"form_key": services.new_form_key()})
        return render(request, "activity/payment_form.html", {"form": form, "nav": "payments"})
    form = PaymentForm(request.POST)
    if form.is_valid():
        card = form.card()
        try:
            payment = services.make_payment(
                user,
                card=card,
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
                form_key=form.cleaned_data["form_key"],
                actor=user,
                request=request,
            )
        except InvalidCard as exc:
            field, message = _CARD_MESSAGES.get(exc.code, _CARD_MESSAGES["number"])
            form.add_error(field, str(message))
        except PaymentUnavailable:
            form.add_error(
                None, _("Payments are not available just now. Nothing was charged. Try later.")
            )
        except PermissionError:
            form.add_error(None, _("This payment form has expired. Fill it in again."))
        else:
            amount = services.format_amount(payment.amount_minor, payment.currency)
            if payment.status == Payment.Status.SUCCEEDED:
                messages.success(request, _("Paid %(amount)s.") % {"amount": amount})
            else:
                messages.error(
                    request,
                    _("Your card was declined: nothing was charged. Try another card."),
                )
            return redirect("activity_payments")
    # A fresh key for the next try: a declined or failed try must not block it.
    data = request.POST.copy()
    data["form_key"] = services.new_form_key()
    form.data = data
    return render(
        request, "activity/payment_form.html", {"form": form, "nav": "payments"}, status=400
    )


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = services.devices_of(user)
    by_device = services.device_sessions(user)
    current = services.current_device_id(request)
    for row in rows:
        setattr(row, "session_count", len(by_device.get(row.pk, [])))  # noqa: B010  # for the page
        setattr(row, "is_current", row.pk == current)  # noqa: B010  # for the page
    return render(
        request,
        "activity/devices.html",
        {"devices": rows, "ip_days": settings.SAFEHOLD_RETAIN_DEVICE_IPS_DAYS, "nav": "devices"},
    )


def _device_id(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("device", ""))
    except ValueError:
        return None


def _gone(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("That device could not be found. It may have been forgotten."))
    return redirect("activity_devices")


@login_required
@require_POST
def rename_device(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = RenameDeviceForm(request.POST)
    device_id = _device_id(request)
    if device_id is None:
        return _gone(request)
    if not form.is_valid():
        messages.error(request, _("A device name can be at most 60 characters."))
        return redirect("activity_devices")
    try:
        services.rename_device(
            user, device_id, name=form.cleaned_data["name"], actor=user, request=request
        )
    except DeviceNotFound:
        return _gone(request)
    messages.success(request, _("Device renamed."))
    return redirect("activity_devices")


@login_required
@require_POST
def forget_device(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    device_id = _device_id(request)
    if device_id is None:
        return _gone(request)
    try:
        services.forget_device(user, device_id, actor=user, request=request)
    except DeviceNotFound:
        return _gone(request)
    messages.success(
        request, _("Device forgotten. A new sign-in from it will be treated as a new device.")
    )
    return redirect("activity_devices")


@login_required
@require_POST
def sign_out_device(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    device_id = _device_id(request)
    if device_id is None:
        return _gone(request)
    try:
        count = services.sign_out_device(
            user,
            device_id,
            current_session_key=request.session.session_key,
            actor=user,
            request=request,
        )
    except DeviceNotFound:
        return _gone(request)
    messages.success(
        request,
        ngettext(
            "Signed the device out of %(count)d session.",
            "Signed the device out of %(count)d sessions.",
            count,
        )
        % {"count": count},
    )
    return redirect("activity_devices")
