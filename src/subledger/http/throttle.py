"""Failed sign-in attempts, counted in memory so that client secrets cannot be guessed quickly.

``POST /oauth/token`` counts each failed attempt against the client id it named and against the remote address it
came from; past the limit within the window, that client id (or address) is answered 429 with ``Retry-After``
until its oldest failure in the window is older than the window, whatever the secret. A success forgets the client
id's failures (not the address's). The counts live in the serving process: a restart forgets them, and each
worker process counts its own (the limit then applies per process). At most ``max_keys`` keys are kept, the least
recently failing dropped first, so a flood of made-up client ids cannot grow the memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

#: Failed attempts allowed per client id, and per remote address, within ``WINDOW`` seconds.
CLIENT_FAILURES = 5
ADDRESS_FAILURES = 20
WINDOW = 60.0
MAX_KEYS = 10_000
#: Refusals audited per remote address within ``WINDOW`` for callers without a valid token (``app.audit``).
ANONYMOUS_AUDITS = 60


class FailedAttempts:
    """The failures of each key within a sliding window of ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        window: float = WINDOW,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again (at least 1), or ``None`` when it may try now."""
        with self._lock:
            failures = self._failures.get(key)
            if failures is None:
                return None
            now = self.clock()
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if not failures:
                del self._failures[key]
                return None
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window - now))

    def failed(self, key: str) -> None:
        with self._lock:
            failures = self._failures.pop(key, None) or deque(maxlen=self.limit)
            failures.append(self.clock())
            self._failures[key] = failures  # the most recent failure last: eviction takes the first
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
