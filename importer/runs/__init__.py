"""The runs a user starts: import (pipeline, remote), undo, --update, columns; events for a watcher."""
