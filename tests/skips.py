"""Skips that cannot hide: what a test does when it cannot run its real subject."""
import os

import pytest

# In CI (the CI variable set, as .ci/run and CI services do) a test that cannot run its subject
# fails with the reason: a green run must have tested everything. Locally it is skipped, and
# `pytest -ra` (pytest.ini) lists the reason in the summary.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def cannot_run(reason: str):
    """Skip with ``reason`` locally; fail with it in CI."""
    if IN_CI:
        pytest.fail(f"cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)
