"""``safehold audit``: verify the log, print or make a checkpoint, and give proofs."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safehold.audit import merkle, services, signing
from safehold.audit.models import Event
from safehold.audit.verify import verify_log


class Command(BaseCommand):
    help = "The tamper-evident audit log: verify, checkpoint, proof, consistency, public-key."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="check the whole log against every signed checkpoint"
        )
        verify.add_argument(
            "--against", type=Path, help="a checkpoint published outside the database"
        )
        verify.add_argument(
            "--public-key", help="the audit public key (base64) to check signatures with"
        )
        verify.add_argument(
            "--jobs",
            type=int,
            default=min(4, os.cpu_count() or 1),
            metavar="N",
            help="processes that read and hash the log (default: the CPUs, at most 4)",
        )
        checkpoint = sub.add_parser(
            "checkpoint", help="print the latest signed checkpoint (--new: sign one now)"
        )
        checkpoint.add_argument(
            "--new", action="store_true", help="sign a checkpoint of the log as it is now"
        )
        checkpoint.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="keep signing a checkpoint every SECONDS while the log grows",
        )
        proof = sub.add_parser(
            "proof", help="inclusion proof of one event in the latest checkpoint"
        )
        proof.add_argument("seq", type=int)
        consistency = sub.add_parser("consistency", help="consistency proof between two tree sizes")
        consistency.add_argument("old_size", type=int)
        consistency.add_argument("new_size", type=int, nargs="?")
        sub.add_parser("public-key", help="print the key that signs checkpoints (base64)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            self.verify(options["against"], options["public_key"], options["jobs"])
        elif action == "checkpoint":
            self.checkpoint(options["new"], options["every"])
        elif action == "proof":
            self.proof(options["seq"])
        elif action == "consistency":
            self.consistency(options["old_size"], options["new_size"])
        else:
            self.stdout.write(signing.public_key_text())

    def verify(self, against_path: Path | None, public_key_text: str | None, jobs: int) -> None:
        if jobs < 1:
            raise CommandError("--jobs must be at least 1")
        try:
            public = signing.load_public_key(public_key_text) if public_key_text else None
            against = signing.parse_checkpoint(against_path.read_text()) if against_path else None
        except OSError as exc:
            raise CommandError(f"cannot read {against_path}: {exc.strerror}") from None
        except signing.CheckpointFormatError as exc:
            raise CommandError(str(exc)) from None
        report = verify_log(public_key=public, against=against, jobs=jobs)
        if report.unsigned:
            self.stderr.write(
                f"note: the last {report.unsigned} events are not in a signed checkpoint yet "
                "(`safehold audit checkpoint --new` signs them now)"
            )
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit log intact: {report.events} events, "
                    f"{report.checkpoints} checkpoints verified"
                    + (", and the published checkpoint" if against else "")
                )
            )
            return
        for problem in report.problems:
            self.stderr.write(f"TAMPERED: {problem}")
        raise CommandError(
            f"the audit log failed verification ({len(report.problems)} problem(s); "
            f"first: {report.problems[0]})"
        )

    def checkpoint(self, new: bool, every: int | None) -> None:
        if every is not None:
            if every < 1:
                raise CommandError("--every must be at least 1 second")
            signed_size = -1
            parent = os.getppid()
            while os.getppid() == parent:  # ends with `safehold serve`, or on Ctrl-C
                size = services.log_size()
                latest = services.latest_checkpoint()
                if size != signed_size and (latest is None or latest.tree_size != size):
                    services.make_checkpoint()
                signed_size = size
                time.sleep(every)
        cp = services.make_checkpoint() if new else services.latest_checkpoint()
        if cp is None:
            cp = services.make_checkpoint()
        self.stdout.write(services.published(cp).text(), ending="")

    def proof(self, seq: int) -> None:
        cp = services.latest_checkpoint()
        if cp is None or not 0 <= seq < cp.tree_size:
            raise CommandError(
                f"event {seq} is not covered by a checkpoint yet: "
                "run `safehold audit checkpoint --new`"
            )
        event = Event.objects.filter(seq=seq).first()
        if event is None:
            raise CommandError(f"event {seq} is not in the log")
        path = services.inclusion_proof(seq, cp.tree_size)
        ok = merkle.verify_inclusion(
            bytes(event.leaf_hash), seq, cp.tree_size, path, bytes(cp.root_hash)
        )
        self.stdout.write(
            json.dumps(
                {
                    "seq": seq,
                    "leaf_hash": base64.b64encode(bytes(event.leaf_hash)).decode(),
                    "tree_size": cp.tree_size,
                    "root_hash": base64.b64encode(bytes(cp.root_hash)).decode(),
                    "checkpoint": services.published(cp).text(),
                    "proof": [base64.b64encode(h).decode() for h in path],
                    "verified": ok,
                },
                indent=2,
            )
        )

    def consistency(self, old_size: int, new_size: int | None) -> None:
        cp = services.latest_checkpoint()
        size = cp.tree_size if cp else 0
        new = size if new_size is None else new_size
        if not 0 < old_size <= new <= size:
            raise CommandError(
                f"sizes must satisfy 0 < old <= new <= {size} (the latest checkpoint)"
            )
        proof = services.consistency_proof(old_size, new)
        old_root, new_root = services.root_at(old_size), services.root_at(new)
        self.stdout.write(
            json.dumps(
                {
                    "old_size": old_size,
                    "new_size": new,
                    "old_root": base64.b64encode(old_root).decode(),
                    "new_root": base64.b64encode(new_root).decode(),
                    "proof": [base64.b64encode(h).decode() for h in proof],
                    "verified": merkle.verify_consistency(old_size, new, old_root, new_root, proof),
                },
                indent=2,
            )
        )
