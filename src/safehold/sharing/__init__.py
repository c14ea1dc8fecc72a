"""The share gate, recipients, consents to share, legal requests (issue 7)."""
