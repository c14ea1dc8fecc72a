from django import template

from safehold.accounts.geo import place_name as _place_name

register = template.Library()


@register.filter
def place_name(code: str) -> str:
    """A stored place code shown in the reader's language."""
    return _place_name(code)
