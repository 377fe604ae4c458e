"""Sending: the workers (direct), Ecwid's batch API, exactly once (the guard, doubt), progress, PUT/DELETE edits."""
