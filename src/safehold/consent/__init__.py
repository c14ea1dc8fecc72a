"""Cookies a visitor can accept or reject, on our pages and on sites that embed us (issue 5)."""
