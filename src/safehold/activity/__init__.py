"""Access records, payments and devices (issue 8)."""
