"""How ``kubectl-arch pin`` scales with the number of workloads: time and memory on generated
streams of Deployments, against the floor (PyYAML's C loader only parsing the same file) and
against ``kubectl kustomize`` applying the same affinity with a JSON6902 patch.

Goals: t(16,000)/t(1,000) at most 17 (linear time, with start-up counted once), peak memory of
the 16,000 run at most 3x the file size + 40 MiB (no node tree kept per document), and pin at
most 2.0x ``yaml.load_all(stream, Loader=yaml.CSafeLoader)`` on the 16,000 stream. The ratios
to Kustomize at 1,000 and 4,000 Deployments are reported.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import benchlib as b
import yaml
from pinned import count_pinned

PLATFORMS = "linux/amd64,linux/arm64"
SIZES = (1000, 4000, 16000)
TIME_GOAL = 17.0
MEMORY_GOAL_FACTOR, MEMORY_GOAL_EXTRA = 3, 40 * 1024 * 1024
FLOOR_GOAL = 2.0
LOADER = "import sys, yaml\nfor _ in yaml.load_all(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader): pass\n"
# Peak memory is measured from a small process of its own: on Linux a child's maximum
# resident set starts from its parent's, which here holds the generated streams.
PEAK = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "print(usage.ru_maxrss if os.waitstatus_to_exitcode(status) == 0 else -1)\n"
)
PATCH = """\
- op: add
  path: /spec/template/spec/affinity
  value:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: kubernetes.io/os, operator: In, values: [linux]}
          - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
"""


def deployments(count: int) -> str:
    """``count`` Deployments, one container each, a few labels."""
    out = []
    for i in range(count):
        out.append(
            f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i:05d}
  namespace: team-{i % 7}
  labels:
    app.kubernetes.io/name: app-{i:05d}
    app.kubernetes.io/part-of: shop
    tier: backend
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i:05d}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i:05d}
        app.kubernetes.io/part-of: shop
        tier: backend
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/app-{i:05d}:1.{i % 10}.0
        ports:
        - containerPort: 8080
"""
        )
    return "".join(out)


def kustomization(directory: Path, stream: Path) -> None:
    directory.mkdir()
    shutil.copyfile(stream, directory / "all.yaml")  # Kustomize reads nothing outside the directory
    (directory / "affinity.yaml").write_text(PATCH)
    (directory / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [all.yaml]\n"
        "patches:\n- path: affinity.yaml\n  target: {kind: Deployment}\n"
    )


def main() -> None:
    p = b.parser(__doc__.splitlines()[0], runs=3)
    p.add_argument("--kustomize-runs", type=int, default=1, help="timed kubectl kustomize runs (default 1)")
    p.add_argument("--no-kustomize", action="store_true", help="skip the comparison with kubectl kustomize")
    opts = p.parse_args()
    arch = b.require("kubectl-arch")
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        tmpdir = Path(tmp)
        streams = {}
        for count in SIZES:
            path = tmpdir / f"deployments-{count}.yaml"
            path.write_text(deployments(count))
            streams[count] = path
        pin = [arch, "pin", "--platform", PLATFORMS, "-f"]
        series = {c: b.Series(f"pin {c:>6} Deployments", [*pin, str(f)]) for c, f in streams.items()}
        for count, s in series.items():
            got = count_pinned(b.check_output(s.argv))
            if got != count:
                raise b.BenchError(f"{s.label}: {got} pinned workloads, expected {count}")
        largest = streams[SIZES[-1]]
        largest_size = largest.stat().st_size
        floor = b.Series(f"CSafeLoader {SIZES[-1]:>6}", [sys.executable, "-c", LOADER, str(largest)])
        if not getattr(yaml, "CSafeLoader", None):
            raise b.BenchError("PyYAML has no C loader (libyaml) here")
        sizes = ", ".join(f"{c} Deployments {streams[c].stat().st_size / 1e6:.1f} MB" for c in SIZES)
        print(f"inputs: {sizes}")
        print("pin outputs verified: every Deployment carries the node affinity\n")
        b.interleave(list(series.values()), opts.runs, opts.warmup)
        b.interleave([floor, series[SIZES[-1]]], opts.runs, 0)
        peaks = [
            int(b.check_output([sys.executable, "-c", PEAK, *series[SIZES[-1]].argv]).decode())
            for _ in range(opts.runs)
        ]
        if min(peaks) < 0:
            raise b.BenchError("the pin run measured for memory failed")
        # The same Deployments as one JSON List, as ``kubectl get -o json`` writes them.
        as_json = tmpdir / f"deployments-{SIZES[-1]}.json"
        objects = list(yaml.load_all(largest.read_bytes(), Loader=yaml.CSafeLoader))
        as_json.write_text(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=4) + "\n"
        )
        del objects
        json_size = as_json.stat().st_size
        json_argv = [*pin, str(as_json)]
        if count_pinned(b.check_output(json_argv)) != SIZES[-1]:
            raise b.BenchError("pin on the JSON List did not pin every Deployment")
        json_peak = max(
            int(b.check_output([sys.executable, "-c", PEAK, *json_argv]).decode()) for _ in range(opts.runs)
        )
        kustomize: dict[int, b.Series] = {}
        if not opts.no_kustomize:
            kubectl = b.require("kubectl")
            for count in SIZES[:2]:
                directory = tmpdir / f"kustomize-{count}"
                kustomization(directory, streams[count])
                k = b.Series(f"kubectl kustomize {count:>6}", [kubectl, "kustomize", str(directory)])
                got = count_pinned(b.check_output(k.argv))
                if got != count:
                    raise b.BenchError(f"{k.label}: {got} pinned workloads, expected {count}")
                b.interleave([k], opts.kustomize_runs, 0)
                kustomize[count] = k
    b.print_table([*series.values(), floor, *kustomize.values()])
    print()
    small, large = series[SIZES[0]], series[SIZES[-1]]
    print(b.goal_line("scaling time 16000 vs 1000", large, small, TIME_GOAL))
    limit = MEMORY_GOAL_FACTOR * largest_size + MEMORY_GOAL_EXTRA
    peak = max(peaks) * 1024
    print(
        f"scaling memory 16000: peak {peak / 2**20:.1f} MiB, at most {limit / 2**20:.1f} MiB "
        f"(3x the {largest_size / 2**20:.1f} MiB file + 40 MiB) {b.verdict(peak <= limit)}"
    )
    json_limit = MEMORY_GOAL_FACTOR * json_size + MEMORY_GOAL_EXTRA
    print(
        f"scaling memory 16000 JSON List: peak {json_peak * 1024 / 2**20:.1f} MiB, "
        f"at most {json_limit / 2**20:.1f} MiB "
        f"(3x the {json_size / 2**20:.1f} MiB file + 40 MiB) {b.verdict(json_peak * 1024 <= json_limit)}"
    )
    print(b.goal_line("scaling floor 16000 vs csafeloader", large, floor, FLOOR_GOAL))
    for count, k in kustomize.items():
        ratio = series[count].wall / k.wall
        times = f"{b.ms(series[count].wall)} / {b.ms(k.wall)}"
        print(f"scaling vs kustomize {count}: ratio {ratio:.3f} ({times}) REPORTED")


if __name__ == "__main__":
    b.main_wrapper(main)
