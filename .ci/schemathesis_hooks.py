"""schemathesis hooks for CI (``SCHEMATHESIS_HOOKS=schemathesis_hooks``).

A real client sends a fresh ``Idempotency-Key`` for each new write and the same one
only when it retries that write. schemathesis draws header values from a small space,
so it sends one key with two different bodies, which the API rightly answers
``422 idempotency.key_reused``. Each well-formed key is made unique here, as a client
would; malformed keys are left as drawn, so their rejection is still tested.
"""

import re
import uuid

import schemathesis

# safehold.api.idempotency.KEY_PATTERN (not imported: that needs Django set up).
_WELL_FORMED = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, kwargs):  # type: ignore[no-untyped-def]  # schemathesis' hook signature
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and _WELL_FORMED.match(str(headers[name])):
            headers[name] = str(uuid.uuid4())
