"""Start-up of ``kubectl-arch pin`` in this tree against another revision (default ``main``),
timed side by side in one run, with ``kubectl version --client`` as in ``startup.py``.

Both trees run with the same interpreter (the one of ``.venv/bin/kubectl-arch``) from a
private, fresh bytecode cache; the other revision is exported with ``git archive`` into a
temporary directory and put first on ``PYTHONPATH``. Before timing, both must print the same
output. Prints the table and one line per tree with its ratio to kubectl and to the other
revision (wall and CPU). Not part of ``make bench``: it compares, it has no goal.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import benchlib as b
from startup import GOAL, PIN_ARGS, fresh_env, interpreter

# As the console script runs it, importing the package from PYTHONPATH first.
RUN = "import sys; sys.argv = ['kubectl-arch', *sys.argv[1:]]; from kubectl_arch.cli import run; run()"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=31)
    args.add_argument("--rev", default="main", help="the revision to compare with (default main)")
    opts = args.parse_args()
    python = interpreter(b.require("kubectl-arch"))
    kubectl = b.require("kubectl")
    with tempfile.TemporaryDirectory(prefix="bench-startup-vs-") as tmp:
        other = Path(tmp) / "tree"
        other.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(b.REPO_ROOT), "archive", opts.rev, "kubectl_arch"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise b.BenchError(f"git archive {opts.rev}: {archive.stderr.decode(errors='replace').strip()}")
        subprocess.run(["tar", "-x", "-C", str(other)], input=archive.stdout, check=True)
        envs = {}
        for name, root in ((opts.rev, other), ("this tree", b.REPO_ROOT)):
            env = fresh_env(str(Path(tmp) / f"pycache-{len(envs)}"))
            env["PYTHONPATH"] = str(root)
            envs[name] = env
        argv = [python, "-c", RUN, *PIN_ARGS]
        outputs = {name: b.check_output(argv, cwd=Path(tmp), env=env) for name, env in envs.items()}
        if len(set(outputs.values())) != 1:
            raise b.BenchError("the two trees print different output")
        baseline = b.Series("kubectl version --client", [kubectl, "version", "--client"])
        trees = [b.Series(f"pin, {name} (fresh bytecode)", argv, env) for name, env in envs.items()]
        b.interleave([baseline, *trees], opts.runs, opts.warmup, cwd=Path(tmp))
        b.print_table([baseline, *trees])
    before, after = trees
    print()
    for tree in trees:
        print(
            f"{tree.label}: ratio to kubectl {tree.wall / baseline.wall:.2f} "
            f"(cpu {tree.cpu / baseline.cpu:.2f}; goal <= {GOAL:.2f})"
        )
    print(f"this tree / {opts.rev}: wall {after.wall / before.wall:.3f}, cpu {after.cpu / before.cpu:.3f}")


if __name__ == "__main__":
    b.main_wrapper(main)
