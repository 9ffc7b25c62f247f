"""Identifier generation: type-prefixed, time-ordered, reproducible from a seed.

An id looks like ``ord_0000018f3a2b4c5d6e7f8a9b``: a prefix naming the entity,
48 bits of milliseconds from the injected clock and 48 random bits, in hex, so
ids sort by creation time and a seeded generator on a manual clock repeats
exactly. Within one millisecond (or on a clock that stands still) the random
part of the next id is the previous one plus one, so ids from one generator
are strictly increasing, as in monotonic ULIDs.
"""

from __future__ import annotations

import random
import secrets
import threading
from datetime import datetime

from transactional.domain.clock import Clock


class IdGenerator:
    def __init__(self, clock: Clock, seed: int | None = None) -> None:
        self._clock = clock
        self._seed = seed
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()
        self._last = (0, 0)

    def reseed(self, salt: int) -> None:
        """Derive the random stream from (seed, salt): a store reopened after ``salt`` commits
        continues with fresh, still reproducible ids. Unseeded generators are left alone."""
        if self._seed is not None:
            with self._lock:
                self._rng = random.Random(f"{self._seed}:{salt}")

    def new(self, prefix: str, *, at: datetime | None = None) -> str:
        """A new id; ``at`` (the command's instant) dates it instead of the clock."""
        instant = at if at is not None else self._clock.now()
        millis = int(instant.timestamp() * 1000) & 0xFFFF_FFFF_FFFF
        with self._lock:
            last_millis, last_rand = self._last
            if millis <= last_millis:
                millis, rand = last_millis, last_rand + 1
                if rand > 0xFFFF_FFFF_FFFF:
                    millis, rand = millis + 1, 0
            else:
                rand = self._rng.getrandbits(47) if self._rng is not None else secrets.randbits(47)
            self._last = (millis, rand)
        return f"{prefix}_{millis:012x}{rand:012x}"
