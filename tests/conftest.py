"""Shared test configuration: hypothesis profiles.

``ci`` (the default) runs 100 examples per property with no deadline (shared
runners are slow and noisy) and derandomized, so a red CI is reproducible and
never a coin toss; ``explore`` runs 1,000 fresh random examples per property
to hunt for new counterexamples (turn what it finds into explicit examples);
``dev`` runs fewer for quick local iteration. Pick one with HYPOTHESIS_PROFILE.
"""

import os

from hypothesis import settings

# Session fixtures shared across layers: the demo warehouse and its published marts.
pytest_plugins = ["tests.fixtures.warehouse"]

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.register_profile("dev", max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
