"""Give memory freed by one step of a run back to the system before the next step starts.

pyarrow's allocator keeps freed pages for reuse; between the big steps of a run (read,
each column's normalization, validation, the report) nothing reuses them soon, and a
million-row run would otherwise hold the high-water mark of every step at once.
"""

from __future__ import annotations

import pyarrow as pa


def release() -> None:
    pa.default_memory_pool().release_unused()
