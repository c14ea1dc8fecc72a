from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """The operator's name and contact, for every template."""
    return {
        "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
        "contact_email": settings.SAFEHOLD_CONTACT_EMAIL,
    }
