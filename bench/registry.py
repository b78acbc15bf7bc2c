"""Registry look-ups: ``kubectl-arch inspect -o json`` of 100 images against ``skopeo inspect
--raw`` of each, one by one, behind a proxy that adds 50 ms to every request; the requests
each image costs, cold and warm, counted by that proxy; and how long giving up on an
unresponsive registry takes with the default settings.

The registry is the Debian ``docker-registry`` with token authentication (anonymous pulls,
tokens from the test suite's token service, reached through the proxy too), as public
registries work. Each of the 100 repositories holds an OCI index of linux/amd64 and
linux/arm64 with an attestation manifest per platform, as BuildKit pushes them.

Goals: time ratio at most 0.1; cold at most 2 requests per image (token + manifest);
warm with digest references, 0 requests; warm with tag references (asked again on every
run by default), 1 HEAD per image and no manifest GET, and 0 requests when their answers are
trusted (``--tag-cache-ttl 1h``); six images on a registry that accepts connections and never
answers fail within 30 s.

Also reported (no goal): the cost of the artifact check on indexes that do not vouch for
their entries (OCI indexes without attestations: each platform entry's manifest is opened
once, cold; nothing more when warm), on 20 more images of two platforms each.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import benchlib as b

sys.path.insert(0, str(b.REPO_ROOT / "tests"))

IMAGES = 100
UNVOUCHED = 20  # OCI indexes without attestations: their entries are opened (cold)
LATENCY = 0.05
GOAL = 0.1
GIVE_UP_GOAL = 30.0  # seconds
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class LatencyProxy:
    """Forwards to the registry (and /token to the token service), sleeping LATENCY per
    request, and logs every request: (method, path, status)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.routes: dict[str, int] = {}
        self.log: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                time.sleep(LATENCY)
                upstream = proxy.routes["token" if self.path.startswith("/token") else "registry"]
                connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
                headers: dict[str, str] = {}
                for k, v in self.headers.items():  # repeated headers (Accept) joined, as HTTP allows
                    if k.lower() not in HOP_BY_HOP | {"host"}:
                        headers[k] = f"{headers[k]}, {v}" if k in headers else v
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                with proxy.lock:
                    proxy.log.append((self.command, self.path, response.status))
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                length_header = response.getheader("Content-Length")
                self.send_header(
                    "Content-Length", length_header if self.command == "HEAD" else str(len(data))
                )
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[tuple[str, str, int]]:
        with self.lock:
            out, self.log = self.log, []
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Unresponsive:
    """Accepts connections and never answers (a registry whose backend hangs)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def give_up_time(arch: str, env: dict[str, str]) -> float:
    """Seconds until ``inspect`` of six images on an unresponsive registry ends, defaults."""
    server = Unresponsive()
    try:
        refs = [f"127.0.0.1:{server.port}/team/app{i}:1" for i in range(6)]
        begin = time.perf_counter()
        proc = subprocess.run([arch, "inspect", *refs], env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - begin
        if proc.returncode != 3 or len(proc.stderr.splitlines()) != len(refs):
            raise b.BenchError(f"unexpected outcome against an unresponsive registry:\n{proc.stderr}")
        return elapsed
    finally:
        server.stop()


def kinds(log: list[tuple[str, str, int]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for method, path, status in log:
        if path.startswith("/token"):
            counts["token"] += 1
        elif status == 401:
            counts["challenge"] += 1
        elif "/manifests/" in path:
            counts[f"{method} manifest"] += 1
        else:
            counts[f"{method} other"] += 1
    return counts


def describe(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no requests"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=3)
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    skopeo = b.require("skopeo")
    if not os.access("/usr/bin/docker-registry", os.X_OK):
        raise b.BenchError("/usr/bin/docker-registry is missing (Debian package docker-registry)")
    import registry_util as ru

    from kubectl_arch.registry.auth import Credential

    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    proxy = LatencyProxy(ru.free_port())
    registry = ru.start_registry(
        work / "registry", auth="token", realm=f"http://127.0.0.1:{proxy.port}/token"
    )
    try:
        assert registry.issuer is not None
        proxy.routes.update(registry=registry.port, token=registry.issuer.port)
        client = ru.client_for(registry, credentials=Credential(ru.USER, ru.PASSWORD))
        start = time.perf_counter()
        digests = []
        for i in range(IMAGES):
            pushed = ru.push_multiarch(
                client,
                f"{registry.host}/bench/image-{i:03d}:1",
                [ru.LINUX_AMD64, ru.LINUX_ARM64],
                attestations=True,
            )
            digests.append(pushed.digest)
        for i in range(UNVOUCHED):
            ru.push_multiarch(
                client, f"{registry.host}/bench/plain-{i:03d}:1", [ru.LINUX_AMD64, ru.LINUX_ARM64]
            )
        print(
            f"pushed {IMAGES} images (index, 2 platforms, 2 attestations) and {UNVOUCHED} without "
            f"attestations in {time.perf_counter() - start:.1f} s"
        )
        host = f"127.0.0.1:{proxy.port}"
        tags = [f"{host}/bench/image-{i:03d}:1" for i in range(IMAGES)]
        by_digest = [f"{host}/bench/image-{i:03d}@{d}" for i, d in enumerate(digests)]

        def env(cache: Path) -> dict[str, str]:
            out = ru.arch_env(work)
            out["XDG_CACHE_HOME"] = str(cache)
            return out

        def inspect(cache: Path, refs: list[str], *extra: str) -> float:
            begin = time.perf_counter()
            b.check_output([arch, "inspect", "-o", "json", *extra, *refs], env=env(cache))
            return time.perf_counter() - begin

        def skopeo_all() -> float:
            begin = time.perf_counter()
            for ref in tags:
                b.check_output([skopeo, "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"])
            return time.perf_counter() - begin

        # Same answers: kubectl-arch's digests are those of the bytes skopeo reads.
        out = b.check_output([arch, "inspect", "-o", "json", tags[0]], env=env(work / "check-cache"))
        raw = b.check_output([skopeo, "inspect", "--raw", "--tls-verify=false", f"docker://{tags[0]}"])
        if json.loads(out)[0]["digest"] != "sha256:" + hashlib.sha256(raw).hexdigest():
            raise b.BenchError("kubectl-arch and skopeo disagree on the digest of " + tags[0])

        subject, baseline = [], []
        for round_ in range(opts.runs):
            cache = work / f"cache-{round_}"
            order = ("subject", "baseline") if round_ % 2 == 0 else ("baseline", "subject")
            for which in order:
                if which == "subject":
                    subject.append(inspect(cache, tags))
                else:
                    baseline.append(skopeo_all())
        proxy.take()

        # Requests per image, from the proxy's log.
        cache = work / "cache-count"
        inspect(cache, tags)
        cold = kinds(proxy.take())
        inspect(cache, by_digest)
        warm_digest = kinds(proxy.take())
        inspect(cache, tags)
        warm_tags = kinds(proxy.take())
        inspect(cache, tags, "--tag-cache-ttl", "1h")
        warm_trusted = kinds(proxy.take())
        plain = [f"{host}/bench/plain-{i:03d}:1" for i in range(UNVOUCHED)]
        inspect(cache, plain)
        cold_plain = kinds(proxy.take())
        inspect(cache, plain)
        warm_plain = kinds(proxy.take())
        gave_up = give_up_time(arch, env(work / "cache-unresponsive"))

        print(f"\n{'command':<58}  {'median':>9}  {'min':>9}  {'max':>9}  runs")
        for label, times in (
            (f"skopeo inspect --raw, {IMAGES} images one by one", baseline),
            (f"kubectl-arch inspect -o json, {IMAGES} images, cold cache", subject),
        ):
            print(
                f"{label:<58}  {b.ms(statistics.median(times)):>9}  {b.ms(min(times)):>9}  "
                f"{b.ms(max(times)):>9}  {len(times)}"
            )
        print(f"\nrequests through the proxy ({LATENCY * 1000:.0f} ms each), {IMAGES} images:")
        for label, counts in (
            ("cold, tag references", cold),
            ("warm, digest references", warm_digest),
            ("warm, tag references (default: asked again)", warm_tags),
            ("warm, tag references, --tag-cache-ttl 1h", warm_trusted),
        ):
            print(f"  {label:<44} {sum(counts.values()):>4}: {describe(counts)}")
        print(f"requests for {UNVOUCHED} indexes of 2 platforms without attestations (entries opened):")
        for label, counts in (("cold, tag references", cold_plain), ("warm, tag references", warm_plain)):
            print(
                f"  {label:<44} {sum(counts.values()):>4}: {describe(counts)} "
                f"({sum(counts.values()) / UNVOUCHED:.2f} per image)"
            )

        ratio = statistics.median(subject) / statistics.median(baseline)
        print()
        print(
            f"registry inspect: ratio {ratio:.3f} ({b.ms(statistics.median(subject))} / "
            f"{b.ms(statistics.median(baseline))}) goal <= {GOAL:.2f} {b.verdict(ratio <= GOAL)}"
        )
        per_image = sum(cold.values()) / IMAGES
        print(
            f"registry requests cold: {per_image:.2f} per image ({describe(cold)}) goal <= 2 "
            f"{b.verdict(per_image <= 2)}"
        )
        total = sum(warm_digest.values())
        print(f"registry requests warm digest: {total} requests goal 0 {b.verdict(total == 0)}")
        heads = warm_tags["HEAD manifest"] / IMAGES
        ok = heads == 1 and warm_tags["GET manifest"] == 0 and sum(warm_trusted.values()) == 0
        print(
            f"registry requests warm tag: {heads:.2f} HEAD per image, {sum(warm_tags.values()) / IMAGES:.2f} "
            f"requests per image in all ({describe(warm_tags)}), {sum(warm_trusted.values())} when trusted "
            f"(--tag-cache-ttl) goal 1 HEAD each {b.verdict(ok)}"
        )
        print(
            f"registry give up: {gave_up:.1f} s for 6 images on a registry that never answers (default "
            f"timeout and retries) goal <= {GIVE_UP_GOAL:.0f} s {b.verdict(gave_up <= GIVE_UP_GOAL)}"
        )
    finally:
        registry.stop()
        proxy.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    b.main_wrapper(main)
