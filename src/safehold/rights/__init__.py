"""Export of everything held, deletion, retention (issue 8)."""
