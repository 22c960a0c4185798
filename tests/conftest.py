"""Shared test configuration."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# One thread per test worker: CI runs pytest-xdist on two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
# CI gates on fixed examples; local runs keep drawing new ones to find bugs.
settings.register_profile("ci", settings.get_profile("default"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
