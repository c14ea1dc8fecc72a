"""What the vault announces, for the audit log to record (the vault imports no other app)."""

from django.dispatch import Signal

#: Sent after a rotation run: version (int), rewrapped (int), resumed (bool).
keys_rotated = Signal()
#: Sent after a data key was shredded: key_id (str).
data_key_shredded = Signal()
