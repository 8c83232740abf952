"""Shared pytest configuration."""

import os

from hypothesis import HealthCheck, settings

# CI profile: deterministic and bounded, so the suite stays well under ten minutes on 2 cores.
settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=20_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
