"""The run's one retry loop, for creates and store reads alike (tenacity, driven by importer.ecwid.policy).

    answer = await retrying(retries=5, wait=..., sleep=asyncio.sleep)(attempt, *args)

`attempt` returns an answer with an `action` (policy.Action): RETRY is tried again, up
to `retries` more times, waiting what `wait(state)` says; any other action ends the
loop. The last answer is returned either way (never an exception for a spent budget);
`stopped()` true ends it early, as when the run is being interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, stop_any

from importer.ecwid.policy import Action


def retrying(*, retries: int, wait: Callable[[RetryCallState], float], sleep: Callable[[float], Any],
             stopped: Callable[[], bool] = lambda: False) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_any(stop_after_attempt(retries + 1), lambda _: stopped()),
        retry=retry_if_result(lambda answer: answer.action is Action.RETRY),
        wait=wait,
        sleep=sleep,
        retry_error_callback=lambda state: state.outcome.result(),
        reraise=True,
    )
