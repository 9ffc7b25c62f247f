"""Shared test configuration: hypothesis profiles.

``ci`` (the default) runs 100 examples per property with no deadline, since
shared CI runners time out on slow examples; ``dev`` runs fewer for quick
local iteration. Pick one with HYPOTHESIS_PROFILE.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("dev", max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
