from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """The operator's name and contact, for every template."""
    return {
        "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
        "contact_email": settings.SAFEHOLD_CONTACT_EMAIL,
    }


def registry(request: HttpRequest) -> dict[str, object]:
    """Links the feature apps registered for the footer and the account centre."""
    from safehold.core import registry as reg

    return {
        "footer_links": list(reg.footer_links()),
        "account_links": list(reg.account_links()),
    }
