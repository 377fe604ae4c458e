"""Cells as written -> values as sent and each row's errors (normalize), then rules over the whole run (validate)."""
