"""The contact form and the staff inbox (issue 6)."""
