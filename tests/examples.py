"""How many examples each property test runs.

``IW_EXAMPLES_SCALE`` scales every count (default 1). ``make test`` runs the
property tests in full on its main interpreter, and at a quarter of the counts
on the other supported Pythons (scripts/pytest-pythons.sh), which are there to
catch what differs between interpreter versions, not to search as long again.
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("IW_EXAMPLES_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` scaled, and never fewer than 25."""
    return max(25, round(count * SCALE))
