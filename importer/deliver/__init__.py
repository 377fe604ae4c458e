"""Sending: one engine (exactly once: journal, doubt, progress), its channels (direct, batch), PUT/DELETE edits."""
