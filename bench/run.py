"""Run every kubectl-arch benchmark with its default settings and summarise the goal lines.

``make bench`` runs this. Exits 1 when a benchmark could not run; a missed goal is reported
as MISS but is not a failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "startup.py",
    "throughput.py",
    "krm.py",
    "fidelity.py",
    "scaling.py",
    "nodes.py",
    "registry.py",
    "check.py",
    "units.py",
    "audit.py",
    "nodesfile.py",
    "build.py",
    "dist_startup.py",
)
# "name: text PASS|MISS", "name: text REPORTED" for a figure without a goal, or "name: skipped:
# why SKIPPED" when there is nothing to measure here (the shared corpus is absent).
GOAL_LINE = re.compile(r"^(?P<name>[a-z][a-z0-9 ]*): (?P<text>.*) (?P<verdict>PASS|MISS|REPORTED|SKIPPED)$")


def main() -> int:
    rows: list[tuple[str, str, str]] = []
    failed: list[str] = []
    for script in SCRIPTS:
        print(f"=== {script} ===", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(HERE / script)], stdout=subprocess.PIPE, text=True, check=False
        )
        print(proc.stdout, end="")
        print(f"({script}: {time.perf_counter() - start:.1f} s, exit {proc.returncode})\n", flush=True)
        found = [m for m in map(GOAL_LINE.match, proc.stdout.splitlines()) if m]
        rows.extend((m["name"], m["verdict"], m["text"]) for m in found)
        if proc.returncode != 0 or not found:
            failed.append(script)
            rows.append((script, "FAIL", f"could not run (exit {proc.returncode})"))

    width = max(len(name) for name, _, _ in rows)
    print("=== summary ===")
    for name, verdict, text in rows:
        print(f"{name:<{width}}  {verdict}  {text}")
    if failed:
        print(f"failed to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
