"""When to try a failed delivery again: exponential backoff with jitter, then give up.

The schedule the integrations promise (CONTRACT.md, "Integrations"): the first retry within 30 s
and never more than 60 s between two tries during the first hour. A try itself may take up to
its timeout (10 s for a webhook), so the pause during that hour stays at most 45 s.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

_random = random.Random()


@dataclass(frozen=True)
class Backoff:
    first: float = 5.0  # the first retry comes after first/2 .. first seconds
    ceiling: float = 45.0  # the longest pause while the delivery is younger than `patient_for`
    patient_for: float = 3600.0
    later_ceiling: float = 900.0  # after that: at most every 15 minutes
    give_up_after: float = 24 * 3600.0

    def delay(self, failures: int, age: float, rng: random.Random = _random) -> float | None:
        """Seconds to wait after the `failures`-th failed try of a delivery `age` seconds old.

        None means give up (the delivery becomes `failed`). The pause doubles with each failure
        up to the ceiling; the jitter (a random pause between half and all of it) keeps many
        deliveries that failed together from hammering a receiver that just came back at once.
        """
        if age >= self.give_up_after:
            return None
        ceiling = self.ceiling if age < self.patient_for else self.later_ceiling
        base = min(ceiling, self.first * 2 ** min(max(failures, 1) - 1, 30))
        return rng.uniform(base / 2, base)
