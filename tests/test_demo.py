"""``make demo``'s script, run as a user would: it prints what landed and leaves nothing behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from servers import need_binary

SCRIPT = Path(__file__).parent.parent / "scripts" / "demo.py"


def test_demo_runs_the_etl_dag_prints_what_landed_and_cleans_up() -> None:
    need_binary("influxd")
    run = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "The DAG run succeeded. Wrote 36 lines to 'energy'" in out
    assert "36 points landed in 'energy'" in out
    assert "2025-01-01T03:00:00+00:00  m-002    Main St, Block 4  " in out
    assert "m-003 (Harbour=West): 12 readings" in out
    folder = re.search(r"Starting influxd in (\S+) \.\.\.", out)
    assert folder is not None and not Path(folder.group(1)).exists()
    assert (
        str(folder.group(1))
        not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    )
