"""``/api/v1/audit/``: the audit log's signed checkpoint and its proofs (scope ``audit:read``).

Sizes and roots always come from one signed checkpoint, never from the request: a
proof is only meaningful together with the size and root it was made for.
"""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from safehold.api.auth import api_auth
from safehold.api.exceptions import ApiProblem
from safehold.api.scopes import Scope
from safehold.audit import services, signing
from safehold.audit.models import Checkpoint, Event

router = Router(tags=["Audit log"])


class NotCheckpointed(ApiProblem):
    code = "not_found"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CheckpointOut(Schema):
    tree_size: int
    root_hash: str
    created_at: str
    key_id: str
    signature: str
    public_key: str
    text: str


class InclusionOut(Schema):
    seq: int
    leaf_data: str
    leaf_hash: str
    tree_size: int
    root_hash: str
    proof: list[str]


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]


class ConsistencyIn(Schema):
    old_size: int
    new_size: int | None = None


def _latest() -> Checkpoint:
    checkpoint = services.latest_checkpoint()
    if checkpoint is None:
        raise NotCheckpointed("the audit log has no checkpoint yet")
    return checkpoint


@router.get(
    "/checkpoint",
    response=CheckpointOut,
    summary="The latest signed checkpoint",
    auth=api_auth(Scope.AUDIT_READ),
)
def checkpoint(request: HttpRequest) -> dict[str, Any]:
    """The tree size and root hash, signed with the installation's Ed25519 audit key, and
    the same as the text `safehold audit checkpoint` prints (for publishing elsewhere)."""
    cp = _latest()
    published = services.published(cp)
    return {
        "tree_size": cp.tree_size,
        "root_hash": _b64(bytes(cp.root_hash)),
        "created_at": published.created_at,
        "key_id": cp.key_id,
        "signature": _b64(bytes(cp.signature)),
        "public_key": signing.public_key_text(),
        "text": published.text(),
    }


@router.get(
    "/events/{seq}/proof",
    response=InclusionOut,
    summary="Inclusion proof of one event",
    auth=api_auth(Scope.AUDIT_READ),
)
def inclusion(request: HttpRequest, seq: int = Path(..., ge=0)) -> dict[str, Any]:
    """RFC 9162 §2.1.3 audit path of event `seq` in the latest checkpoint's tree. The
    leaf is SHA-256(0x00 || leaf_data)."""
    cp = _latest()
    if seq >= cp.tree_size:
        raise NotCheckpointed("that event is not covered by the latest checkpoint")
    event = Event.objects.filter(seq=seq).only("data", "leaf_hash").first()
    if event is None:
        raise NotCheckpointed("no such event")
    return {
        "seq": seq,
        "leaf_data": _b64(bytes(event.data)),
        "leaf_hash": _b64(bytes(event.leaf_hash)),
        "tree_size": cp.tree_size,
        "root_hash": _b64(bytes(cp.root_hash)),
        "proof": [_b64(h) for h in services.inclusion_proof(seq, cp.tree_size)],
    }


@router.get(
    "/consistency",
    response=ConsistencyOut,
    summary="Consistency proof between two sizes",
    auth=api_auth(Scope.AUDIT_READ),
)
def consistency(request: HttpRequest, query: Query[ConsistencyIn]) -> dict[str, Any]:
    """RFC 9162 §2.1.4 proof that the tree of `old_size` events is a prefix of the tree of
    `new_size` (default: the latest checkpoint's size). Check `old_root` against a
    checkpoint you kept."""
    cp = _latest()
    new_size = cp.tree_size if query.new_size is None else query.new_size
    if not 0 < query.old_size <= new_size <= cp.tree_size:
        raise NotCheckpointed(f"sizes must satisfy 0 < old_size <= new_size <= {cp.tree_size}")
    return {
        "old_size": query.old_size,
        "new_size": new_size,
        "old_root": _b64(services.root_at(query.old_size)),
        "new_root": _b64(services.root_at(new_size)),
        "proof": [_b64(h) for h in services.consistency_proof(query.old_size, new_size)],
    }
