"""Join a visitor's choices to their account at sign-in; forget cached categories on change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from safehold.audit.services import Actor
from safehold.consent import services, web
from safehold.consent.models import Category


@receiver(user_logged_in, dispatch_uid="safehold.consent.join_visitor")
def join_on_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    services.join_visitor(web.visitor_id(request), user, actor=Actor.from_request(request))


@receiver(post_save, sender=Category, dispatch_uid="safehold.consent.category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="safehold.consent.category_deleted")
def forget_config(sender: Any, **kwargs: Any) -> None:
    services.clear_config()
