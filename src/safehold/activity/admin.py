"""Staff see payments for accounting: amounts, currency, status and time, never card data.

Read-only: payments are written by the payment service alone. Access records and
devices have no admin page: they are the person's, shown to them in the account centre.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from safehold.activity import services
from safehold.activity.models import Payment
from safehold.core.admin import ReadOnlyAdmin


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "amount", "status", "processor", "account", "minimised_at")
    list_filter = ("status", "currency", "processor")
    date_hierarchy = "created_at"
    fields = ("created_at", "amount", "status", "decline_code", "processor", "account")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_full_result_count = False

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount(self, payment: Payment) -> str:
        return services.format_amount(payment.amount_minor, payment.currency)

    @admin.display(description=_("account"))
    def account(self, payment: Payment) -> str:
        return str(payment.user_id) if payment.user_id else str(_("erased (minimised)"))
