"""The audit log: events as leaves of a Merkle tree (RFC 6962), with signed checkpoints.

The tables are append-only in the database itself: triggers (see migration 0002)
refuse UPDATE and DELETE, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class SequenceField(models.BigIntegerField):
    """A 64-bit integer primary key that is the table's own row id on SQLite.

    SQLite makes a column its rowid only when it is declared exactly ``INTEGER PRIMARY
    KEY``; Django's ``bigint`` would keep a second B-tree of the same numbers beside the
    table, written on every append. SQLite's INTEGER holds 64 bits, so nothing is lost;
    other databases get ``bigint`` as before.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class Event(models.Model):
    """One leaf of the log. ``seq`` is its index, given in commit order with no gaps.

    ``data`` is the leaf: the event's canonical bytes (see ``services.EventRecord``),
    hashed into the tree as RFC 6962 prescribes. The other columns repeat parts of it
    for look-ups; ``safehold audit verify`` checks that they agree with ``data``.
    Nothing personal is in plain text: actor and subject are ids, and the client IP
    and any free-text note are sealed under a data key, so shredding that key erases
    them while the log still verifies.
    """

    seq = SequenceField(primary_key=True)
    occurred_at = models.CharField(_("when"), max_length=32)  # ISO 8601, UTC, microseconds
    event_type = models.CharField(_("event"), max_length=64, db_index=True)
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.BinaryField()
    leaf_hash = models.BinaryField()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("seq",)

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type}"


class Node(models.Model):
    """A stored perfect-subtree hash of the tree (levels >= NODE_MIN_LEVEL), for proofs."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_node_unique")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed statement of the tree's size and root at a time (Ed25519)."""

    origin = models.CharField(max_length=200, default="")  # the signed origin line, as signed
    tree_size = models.BigIntegerField()
    root_hash = models.BinaryField()
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.BinaryField()

    class Meta:
        ordering = ("id",)
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at size {self.tree_size}"
