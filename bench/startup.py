"""Start-up cost of ``kubectl-arch pin`` on one small Deployment, against ``kubectl version --client``.

Goal: median wall time of the pin run at most 1.25 times that of kubectl's. Also prints the
ten slowest imports (cumulative, from ``python -X importtime``) on the pin path and checks
that heavy modules stay off it.

Bytecode: an installed package has up-to-date ``.pyc`` files (pip and ``make`` compile them).
In a work tree edited since the install, with ``PYTHONDONTWRITEBYTECODE`` set, the edited
modules would be compiled from source on every run. So the timed pin runs use a private,
fresh bytecode cache (``PYTHONPYCACHEPREFIX`` in a temporary directory; nothing in the
repository is written), and when some modules' bytecode is stale, an extra row times the
command as installed and names them (``--as-installed`` uses that row for the goal instead).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from collections import defaultdict

import benchlib as b

GOAL = 1.25
INPUT = b.DATA / "deployment.yaml"
PIN_ARGS = ["pin", "--platform", "linux/arm64", "-f", str(INPUT)]
# Modules that must not load when pinning: remote clients, schema validation, entry-point scans,
# shell completion.
FORBIDDEN = (
    "kubernetes",
    "requests",
    "jsonschema",
    "importlib.metadata",
    "pkg_resources",
    "kubectl_arch.completion",
    "click.shell_completion",
)
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")
MARK = "\x00bench "
# Run pin like the console script, then report (on stderr) the modules loaded and those whose
# bytecode is missing or stale (compiled from source on this run).
PROBE = f"""
import sys
sys.argv = ['kubectl-arch', *{PIN_ARGS!r}]
from kubectl_arch.cli import main
rc = main()
sys.stdout.flush()
import os
from importlib.util import MAGIC_NUMBER
stale = []
for name, module in list(sys.modules.items()):
    spec = getattr(module, '__spec__', None)
    if spec is None or not (spec.origin or '').endswith('.py') or not spec.cached:
        continue
    try:
        with open(spec.cached, 'rb') as f:
            head = f.read(16)
        st = os.stat(spec.origin)
    except OSError:
        stale.append(name)
        continue
    if int.from_bytes(head[4:8], 'little') != 0:
        continue  # hash-based pyc: checked differently, assume fresh
    if (head[:4] != MAGIC_NUMBER or int.from_bytes(head[8:12], 'little') != int(st.st_mtime) & 0xFFFFFFFF
            or int.from_bytes(head[12:16], 'little') != st.st_size & 0xFFFFFFFF):
        stale.append(name)
sys.stderr.write({MARK!r} + 'modules ' + ' '.join(sorted(sys.modules)) + '\\n')
sys.stderr.write({MARK!r} + 'stale ' + ' '.join(sorted(stale)) + '\\n')
sys.exit(rc)
"""


def interpreter(script: str) -> str:
    """The Python that runs the ``kubectl-arch`` console script (its shebang)."""
    with open(script, "rb") as f:
        first = f.readline().decode(errors="replace").strip()
    if not first.startswith("#!"):
        raise b.BenchError(f"{script} has no shebang line")
    parts = first[2:].split()
    if parts and parts[0].endswith("/env") and len(parts) > 1:
        return b.require(parts[1])
    return parts[0]


def fresh_env(cache: str) -> dict[str, str]:
    """The environment with a private bytecode cache that Python may write to."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def probe(python: str, env: dict[str, str] | None, importtime: bool) -> tuple[str, dict[str, str]]:
    """Run PROBE; return its stderr and its MARK lines (key -> rest)."""
    argv = [python, *(["-X", "importtime"] if importtime else []), "-c", PROBE]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise b.BenchError(f"probe run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    marks = {}
    for line in proc.stderr.splitlines():
        if line.startswith(MARK):
            key, _, rest = line[len(MARK) :].partition(" ")
            marks[key] = rest
    return proc.stderr, marks


def report_imports(python: str, env: dict[str, str], rounds: int) -> str:
    times: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    loaded: set[str] = set()
    for _ in range(rounds):
        stderr, marks = probe(python, env, importtime=True)
        loaded.update(marks.get("modules", "").split())
        for line in stderr.splitlines():
            m = IMPORT_LINE.match(line)
            if m:
                times[m.group(4)].append((int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2))
                loaded.add(m.group(4))
    rows = sorted(
        (
            (
                statistics.median(c for _, c, _ in seen),
                statistics.median(s for s, _, _ in seen),
                min(d for _, _, d in seen),
                name,
            )
            for name, seen in times.items()
        ),
        reverse=True,
    )
    total = sum(cum for cum, _, depth, _ in rows if depth == 0)
    print(
        f"\npython -X importtime, pin path, fresh bytecode, median of {rounds} runs; "
        f"all top-level imports: {total / 1000:.1f} ms (importtime inflates these)"
    )
    print(f"{'cumulative':>12}  {'self':>9}  depth  module")
    for cum, own, depth, name in rows[:10]:
        print(f"{cum / 1000:>9.1f} ms  {own / 1000:>6.1f} ms  {depth:>5}  {name}")
    ours = sorted(r[3] for r in rows if r[3].split(".")[0] == "kubectl_arch")
    print(f"kubectl_arch modules loaded ({len(ours)}): {', '.join(ours)}")
    found = sorted(n for n in loaded if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))
    what = ", ".join(FORBIDDEN)
    if found:
        return f"startup imports: loaded {', '.join(found)} (goal: none of {what}) MISS"
    return f"startup imports: none of {what} loaded PASS"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=21)
    args.add_argument("--import-runs", type=int, default=5, help="python -X importtime runs (default 5)")
    args.add_argument(
        "--as-installed",
        action="store_true",
        help="judge the goal on the run with the bytecode as installed, not a fresh cache",
    )
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    python = interpreter(arch)

    out = b.check_output([arch, *PIN_ARGS]).decode()
    if "nodeAffinity:" not in out or "- arm64" not in out:
        raise b.BenchError("pin output carries no arm64 node affinity:\n" + out)
    _, marks = probe(python, None, importtime=False)
    stale = marks.get("stale", "").split()

    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = fresh_env(cache)
        probe(python, env, importtime=False)  # fills the private cache
        label = f"kubectl-arch pin --platform linux/arm64 -f {INPUT.relative_to(b.REPO_ROOT)}"
        baseline = b.Series("kubectl version --client", [kubectl, "version", "--client"])
        fresh = b.Series(f"{label} (fresh bytecode)", [arch, *PIN_ARGS], env)
        installed = b.Series(f"{label} (as installed)", [arch, *PIN_ARGS])
        floor = b.Series("(floor) python -c pass", [python, "-c", "pass"], env)
        series = [baseline, fresh, *([installed] if stale or opts.as_installed else []), floor]
        b.interleave(series, opts.runs, opts.warmup)
        print(f"kubectl-arch: {arch}\nkubectl: {kubectl}\n")
        b.print_table(series)
        if stale:
            reason = "PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
            print(
                f"\nnote: stale or missing bytecode for {len(stale)} module(s), compiled from source on "
                f"every run{' (' + reason + ')' if reason else ''}: {', '.join(stale)}\n"
                f"as installed: ratio {installed.wall / baseline.wall:.2f}; "
                "refresh with: .venv/bin/python -m compileall -q kubectl_arch"
            )
        imports_line = report_imports(python, env, opts.import_runs)
    print()
    print(imports_line)
    print(b.goal_line("startup", installed if opts.as_installed else fresh, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
