"""Sending: one engine (exactly once: journal, doubt, progress) and its channels: direct workers, Ecwid's batch API; PUT/DELETE edits."""
