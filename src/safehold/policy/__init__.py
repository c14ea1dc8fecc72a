"""The privacy statement's versions, publication, acknowledgement, and the promise map (issue 6)."""
