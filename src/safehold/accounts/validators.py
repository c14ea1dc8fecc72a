"""Password rules and the password-hint rule."""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Common look-alike substitutions, undone before comparing hint and password, so
# that "P@ssw0rd" in a hint counts as "password".
_LEET = str.maketrans(
    {"0": "o", "1": "l", "!": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"}
)
# A hint sharing a run of this share of the password's characters gives it away.
_SHARED_RUN_SHARE = 0.5
_MIN_SHARED_RUN = 4
_SIMILARITY_LIMIT = 0.6


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LEET)
    return "".join(ch for ch in folded if ch.isalnum())


def hint_reveals_password(hint: str, password: str) -> bool:
    """True if ``hint`` contains ``password`` or is too close to it.

    Compared after case folding, Unicode normalisation, undoing look-alike
    characters and dropping spaces and punctuation. Too close means: the hint holds
    the password forwards or backwards; or the hint and password share a run of
    characters at least half the password long (and at least 4); or the two are
    60 % similar or more overall, or for any word of the hint.
    """
    raw_hint = unicodedata.normalize("NFKC", hint).casefold()
    raw_password = unicodedata.normalize("NFKC", password).casefold()
    if raw_password and (raw_password in raw_hint or raw_password[::-1] in raw_hint):
        return True
    norm_hint, norm_password = _normalise(hint), _normalise(password)
    if len(norm_password) < len(raw_password.replace(" ", "")) / 2:
        # Mostly symbols or emoji: compare what was typed, not the letters left over.
        norm_hint, norm_password = raw_hint, raw_password
    if not norm_hint or not norm_password:
        return False
    if norm_password in norm_hint or norm_password[::-1] in norm_hint:
        return True
    matcher = SequenceMatcher(None, norm_hint, norm_password, autojunk=False)
    run = matcher.find_longest_match(0, len(norm_hint), 0, len(norm_password)).size
    if run >= max(_MIN_SHARED_RUN, len(norm_password) * _SHARED_RUN_SHARE):
        return True
    if matcher.ratio() >= _SIMILARITY_LIMIT:
        return True
    words = [_normalise(word) for word in hint.split()]
    return any(
        len(word) >= _MIN_SHARED_RUN
        and SequenceMatcher(None, word, norm_password, autojunk=False).ratio() >= _SIMILARITY_LIMIT
        for word in words
    )


class MaximumLengthValidator:
    """Refuse passwords over ``max_length`` characters (default 1024).

    Long passphrases are welcome; the cap only keeps a megabyte "password" from
    tying up a worker in the hasher.
    """

    def __init__(self, max_length: int = 1024) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can be up to %(max_length)d character long.",
            "Your password can be up to %(max_length)d characters long.",
            self.max_length,
        ) % {"max_length": self.max_length}


class PasswordHintValidator:
    """Refuse a new password that the account's current password hint gives away."""

    def validate(self, password: str, user: Any = None) -> None:
        hint = getattr(user, "password_hint", "") if user is not None else ""
        if hint and hint_reveals_password(hint, password):
            raise ValidationError(
                _(
                    "Your password hint gives this password away. Choose another password, "
                    "or change your hint first."
                ),
                code="password_matches_hint",
            )

    def get_help_text(self) -> str:
        return _("Your password must not be guessable from your password hint.")
