"""The sandbox's batch API: tickets (plain data), the queue that runs them, and its endpoints.

    from importer.sandbox.batch import BatchSettings, BatchQueue   # the queue and its settings
    from importer.sandbox.batch import api                         # the endpoints (routes(state))
"""

from importer.sandbox.batch.queue import BatchQueue, BatchSettings, BatchStats

__all__ = ["BatchQueue", "BatchSettings", "BatchStats"]
