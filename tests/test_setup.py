"""The checkout sets itself up: the README's two set-up commands are what the Makefile and CI
run, a fresh editable install (what ``make`` does) prints no deprecation banner, and it puts
the checkout on ``sys.path`` with a static ``.pth`` line, loading no import hook at start-up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from integration_util import describe

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def setup_commands() -> list[str]:
    """The commands of the README's "Set up and run from a checkout" block, comments dropped."""
    section = README.read_text().split("## Set up and run from a checkout", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_readme_set_up_commands_are_the_makefiles() -> None:
    assert setup_commands() == ["make demo", "make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
    assert "editable_mode" not in makefile  # the default (lenient) mode, which setuptools keeps


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands[-1] == setup_commands()[-1]


def test_fresh_editable_install_prints_no_deprecation(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The test environment's pip installs into the new venv (its own build isolation fetches
    # setuptools as pyproject.toml asks, as on a fresh machine); -v shows what the backend says.
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-v", "--no-deps", "-e", str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    output = proc.stdout + proc.stderr
    banners = [
        line
        for line in output.splitlines()
        if re.search(r"Deprecat|!!|\*{8}|will be removed|no longer be supported", line)
    ]
    assert banners == [], "\n".join(banners)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    pth = sorted(p.name for p in site.glob("*.pth") if "kubectl" in p.name)
    assert pth == ["__editable__.kubectl_arch-0.1.0.pth"], sorted(p.name for p in site.iterdir())
    assert (site / pth[0]).read_text().strip() == str(REPO)
    assert not list(site.glob("__editable___*finder.py"))  # no import hook at every start
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import kubectl_arch, sys; print(kubectl_arch.__file__); print(sorted(sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, describe(probe)  # type: ignore[arg-type]
    first, modules = probe.stdout.splitlines()
    assert first == str(REPO / "kubectl_arch" / "__init__.py")
    assert "pathlib" not in modules
