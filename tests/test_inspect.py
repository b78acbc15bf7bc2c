"""``kubectl-arch inspect`` against a real registry (Debian docker-registry) with the test
images of :func:`registry_util.populate`: outputs, the check mode, the cache, skopeo as a
second opinion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from registry_util import Populated, arch_env, skopeo_raw

BIN = Path(sys.executable).parent / "kubectl-arch"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env=env,
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def requests_logged(stderr: str) -> list[str]:
    """The request lines -v printed: 'METHOD URL'."""
    return [
        " ".join(line.split()[:2]) for line in stderr.splitlines() if line.split()[:1] in (["GET"], ["HEAD"])
    ]


def entry(child: dict, platform: dict[str, str]) -> dict:
    out: dict = {"os": platform["os"], "architecture": platform["architecture"]}
    variant = platform.get("variant")
    if variant and not (platform["architecture"] == "arm64" and variant == "v8"):
        out["variant"] = variant
    if platform.get("os.version"):
        out["os.version"] = platform["os.version"]
    out["digest"] = child["digest"]
    out["mediaType"] = child["mediaType"]
    return out


def test_json_contract(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    names = [
        "library/multi:1",
        "org/team/deep/path/app:2.0",
        "single/oci:1",
        "single/docker:1",
        "win/server:ltsc",
    ]
    proc = run(arch_env(tmp_path), "inspect", "-o", "json", *(reg.ref(n) for n in names))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    got = json.loads(proc.stdout)
    host = reg.registry.host

    def index_entries(name: str) -> list[dict]:
        manifests = json.loads(reg.images[name].data)["manifests"]
        return [
            entry(m, m["platform"])
            for m in manifests
            if m["platform"]["os"] != "unknown"  # attestations are not platforms
        ]

    oci, docker = reg.images["single/oci:1"], reg.images["single/docker:1"]
    assert got == [
        {
            "reference": f"{host}/library/multi:1",
            "resolved": f"{host}/library/multi:1",
            "digest": reg.images["library/multi:1"].digest,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "platforms": index_entries("library/multi:1"),
        },
        {
            "reference": f"{host}/org/team/deep/path/app:2.0",
            "resolved": f"{host}/org/team/deep/path/app:2.0",
            "digest": reg.images["org/team/deep/path/app:2.0"].digest,
            "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "platforms": index_entries("org/team/deep/path/app:2.0"),
        },
        {
            "reference": f"{host}/single/oci:1",
            "resolved": f"{host}/single/oci:1",
            "digest": oci.digest,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "platforms": [
                {"os": "linux", "architecture": "arm64", "digest": oci.digest, "mediaType": oci.media_type}
            ],
        },
        {
            "reference": f"{host}/single/docker:1",
            "resolved": f"{host}/single/docker:1",
            "digest": docker.digest,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "platforms": [
                {
                    "os": "linux",
                    "architecture": "amd64",
                    "digest": docker.digest,
                    "mediaType": docker.media_type,
                }
            ],
        },
        {
            "reference": f"{host}/win/server:ltsc",
            "resolved": f"{host}/win/server:ltsc",
            "digest": reg.images["win/server:ltsc"].digest,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "platforms": index_entries("win/server:ltsc"),
        },
    ]
    # The attestation entries are in the index, and left out.
    assert len(json.loads(reg.images["library/multi:1"].data)["manifests"]) == 6
    assert [p.get("variant") for p in got[0]["platforms"]] == [None, None, "v7"]
    assert got[4]["platforms"][0]["os.version"] == "10.0.17763.5458"
    # YAML is the same data.
    as_yaml = run(arch_env(tmp_path), "inspect", "-o", "yaml", *(reg.ref(n) for n in names))
    assert yaml.safe_load(as_yaml.stdout) == got


def test_agrees_with_skopeo(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    for name in ("library/multi:1", "org/team/deep/path/app:2.0", "win/server:ltsc"):
        raw = skopeo_raw(reg.ref(name))
        assert "sha256:" + __import__("hashlib").sha256(raw).hexdigest() == reg.images[name].digest
        ours = json.loads(run(arch_env(tmp_path), "inspect", "-o", "json", reg.ref(name)).stdout)[0]
        theirs = [
            (m["platform"]["os"], m["platform"]["architecture"], m["digest"])
            for m in json.loads(raw)["manifests"]
            if m.get("annotations", {}).get("vnd.docker.reference.type") != "attestation-manifest"
        ]
        assert [(p["os"], p["architecture"], p["digest"]) for p in ours["platforms"]] == theirs


def test_nested_index_and_entries_without_platform(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    proc = run(arch_env(tmp_path), "inspect", "-o", "json", reg.ref("nested/app:1"))
    assert proc.returncode == 0, proc.stderr
    (got,) = json.loads(proc.stdout)
    inner = json.loads(reg.images["nested/app:inner"].data)["manifests"]
    s390x = reg.children["nested/app:1"][1]
    assert got["platforms"] == [
        entry(inner[0], inner[0]["platform"]),
        entry(inner[1], inner[1]["platform"]),
        {"os": "linux", "architecture": "s390x", "digest": s390x["digest"], "mediaType": s390x["mediaType"]},
    ]


def test_table(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    proc = run(arch_env(tmp_path), "inspect", reg.ref("single/docker:1"), reg.ref("win/server:ltsc"))
    assert proc.returncode == 0, proc.stderr
    docker, win = reg.images["single/docker:1"], reg.images["win/server:ltsc"]
    children = json.loads(win.data)["manifests"]
    mt = "application/vnd.oci.image.manifest.v1+json"
    dmt = "application/vnd.docker.distribution.manifest.v2+json"
    digest_pad, dmt_pad, mt_pad = " " * (71 - 6), " " * (len(dmt) - 10), " " * (len(mt) - 10)
    assert proc.stdout == (
        f"{reg.ref('single/docker:1')} -> {reg.registry.host}/single/docker@{docker.digest} "
        f"(application/vnd.docker.distribution.manifest.v2+json)\n"
        f"PLATFORM     DIGEST{digest_pad}  MEDIA TYPE{dmt_pad}  SIZE\n"
        f"linux/amd64  {docker.digest}  application/vnd.docker.distribution.manifest.v2+json  {docker.size}\n"
        "\n"
        f"{reg.ref('win/server:ltsc')} -> {reg.registry.host}/win/server@{win.digest} "
        "(application/vnd.oci.image.index.v1+json)\n"
        f"PLATFORM                         DIGEST{digest_pad}  MEDIA TYPE{mt_pad}  SIZE\n"
        f"windows/amd64 (10.0.17763.5458)  {children[0]['digest']}  {mt}  {children[0]['size']}\n"
        f"windows/amd64 (10.0.20348.2227)  {children[1]['digest']}  {mt}  {children[1]['size']}\n"
        f"linux/amd64                      {children[2]['digest']}  {mt}  {children[2]['size']}\n"
    )


def test_platform_check(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    multi, deep = reg.ref("library/multi:1"), reg.ref("org/team/deep/path/app:2.0")
    ok = run(env, "inspect", "--platform", "linux/amd64,linux/arm64/v8", "-o", "json", multi, deep)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    missing = run(
        env, "inspect", "--platform", "linux/arm64", "--platform", "linux/s390x", multi, "-o", "json"
    )
    assert missing.returncode == 1
    assert len(json.loads(missing.stdout)) == 1  # the answer is still printed
    assert missing.stderr.splitlines() == [
        f"error: image {multi} lacks linux/s390x (it has linux/amd64,linux/arm/v7,linux/arm64)",
        "1 image(s) lack requested platforms",
    ]


def test_variant_fallback(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    single_v7 = reg.ref("library/multi:1")  # has arm/v7 only among arm variants
    exact = run(env, "inspect", "--platform", "linux/arm/v6", single_v7, "-o", "json")
    assert exact.returncode == 1
    # arm/v6 is not satisfied by v7 even with fallback (a later variant never is) ...
    later = run(
        env, "inspect", "--platform", "linux/arm/v6", "--allow-variant-fallback", single_v7, "-o", "json"
    )
    assert later.returncode == 1
    # ... but an arm/v8 request accepts the v7 image with fallback, and not without.
    assert run(env, "inspect", "--platform", "linux/arm/v8", single_v7, "-o", "json").returncode == 1
    fallback = run(
        env, "inspect", "--platform", "linux/arm/v8", "--allow-variant-fallback", single_v7, "-o", "json"
    )
    assert fallback.returncode == 0, fallback.stderr


def test_cache_digest_tag_and_refresh(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    multi = reg.ref("library/multi:1")
    by_digest = f"{reg.registry.host}/library/multi@{reg.images['library/multi:1'].digest}"
    cold = run(env, "-v", "inspect", multi, "-o", "json")
    assert requests_logged(cold.stderr) == [f"GET http://{reg.registry.host}/v2/library/multi/manifests/1"]
    # Warm: the digest reference needs no request; the tag is asked again (tags move), with
    # one HEAD; the manifest comes from the cache.
    head = f"HEAD http://{reg.registry.host}/v2/library/multi/manifests/1"
    warm = run(env, "-v", "inspect", multi, by_digest, "-o", "json")
    assert requests_logged(warm.stderr) == [head]
    assert json.loads(warm.stdout)[0]["digest"] == json.loads(warm.stdout)[1]["digest"]
    # Trusting tag answers for a while is a choice, and the output says when it was made.
    trusted = run(env, "-v", "inspect", "--tag-cache-ttl", "5m", multi, by_digest, "-o", "json")
    assert requests_logged(trusted.stderr) == []
    assert json.loads(trusted.stdout) == json.loads(warm.stdout)
    (note,) = [line for line in trusted.stderr.splitlines() if line.startswith("note:")]
    assert note.startswith(
        "note: 1 image tag(s) answered from the cache without asking the registry (checked up to "
    )
    assert note.endswith(" ago; tag answers are trusted for 5m00s); --refresh asks again")
    # --refresh asks again for the tag even then: one HEAD.
    refreshed = run(
        env, "-v", "inspect", "--tag-cache-ttl", "5m", "--refresh", multi, by_digest, "-o", "json"
    )
    assert requests_logged(refreshed.stderr) == [head]
    assert "note:" not in refreshed.stderr
    assert json.loads(refreshed.stdout) == json.loads(warm.stdout)


def test_each_distinct_image_once(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    manifest = tmp_path / "m.yaml"
    image = reg.ref("single/oci:1")
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        f"  - name: a\n    image: {image}\n  - name: b\n    image: {image}\n"
        f"  initContainers:\n  - name: c\n    image: {reg.ref('single/docker:1')}\n"
    )
    proc = run(env, "-v", "inspect", "-f", str(manifest), "-o", "json", image)
    assert proc.returncode == 0, proc.stderr
    assert [i["reference"] for i in json.loads(proc.stdout)] == [image, reg.ref("single/docker:1")]
    gets = requests_logged(proc.stderr)
    assert sorted(gets) == sorted(
        [
            f"GET http://{reg.registry.host}/v2/single/oci/manifests/1",
            f"GET http://{reg.registry.host}/v2/single/oci/blobs/{json.loads(reg.images['single/oci:1'].data)['config']['digest']}",
            f"GET http://{reg.registry.host}/v2/single/docker/manifests/1",
            f"GET http://{reg.registry.host}/v2/single/docker/blobs/{json.loads(reg.images['single/docker:1'].data)['config']['digest']}",
        ]
    )


def test_errors(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    good = reg.ref("single/oci:1")
    missing = reg.ref("no/such:1")
    proc = run(env, "inspect", "-o", "json", good, missing, "Bad:Ref")
    assert proc.returncode == 3
    assert [i["reference"] for i in json.loads(proc.stdout)] == [good]
    assert proc.stderr.splitlines() == [
        f"error: image {missing}: 404 Not Found from {reg.registry.host} (MANIFEST_UNKNOWN: manifest unknown): "
        "manifest 1 not found; is the name right? (a private repository may also answer 404 without "
        "credentials)",
        "error: invalid image reference 'Bad:Ref': repository name must be lower-case",
    ]
    usage = run(env, "inspect")
    assert usage.returncode == 2
    assert (
        usage.stderr.splitlines()[0] == "error: no images: give references (nginx:1.27) or manifests with -f"
    )
    refused = run(env, "inspect", "127.0.0.1:1/x:1", "--request-timeout", "2s")
    assert refused.returncode == 3
    assert refused.stderr == "error: image 127.0.0.1:1/x:1: cannot reach 127.0.0.1:1: connection refused\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--platform", "linux/amd46"), "error: Invalid value for '--platform': invalid platform 'linux/amd46': unknown architecture 'amd46'; did you mean linux/amd64?"),
        (("--request-timeout", "soon"), "error: Invalid value for '--request-timeout': 'soon' is not a duration: use seconds or one such as 30s, 2m or 1m30s"),
        (("--allow-variant-fallback",), "error: --allow-variant-fallback applies only with --platform"),
        (("--registry-ca-file", "/nonexistent.pem"), "error: --registry-ca-file: /nonexistent.pem: no such file"),
    ],
)  # fmt: skip
def test_usage_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    proc = run(arch_env(tmp_path), "inspect", "nginx", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == message


def test_insecure_registries_from_the_tool_config(populated_registry: Populated, tmp_path: Path) -> None:
    config = tmp_path / "config" / "kubectl-arch"
    config.mkdir(parents=True)
    (config / "config.yaml").write_text("insecureRegistries: [registry.invalid]\ntagCacheSeconds: 0\n")
    env = arch_env(tmp_path)
    image = populated_registry.ref("single/oci:1")
    run(env, "inspect", image)
    again = run(env, "-v", "inspect", image)
    assert requests_logged(again.stderr) == [
        f"HEAD http://{populated_registry.registry.host}/v2/single/oci/manifests/1"
    ]
    (config / "config.yaml").write_text("insecureRegistry: [x]\n")
    bad = run(env, "inspect", image)
    assert bad.returncode == 2
    assert bad.stderr == (
        f"error: {config / 'config.yaml'}: unknown key 'insecureRegistry' "
        "(known: insecureRegistries, registryCAFile, tagCacheSeconds)\n"
    )


def test_progress_only_on_a_terminal(populated_registry: Populated, tmp_path: Path) -> None:
    import os
    import pty

    reg = populated_registry
    refs = [
        reg.ref(n)
        for n in ("library/multi:1", "single/oci:1", "single/docker:1", "win/server:ltsc", "nested/app:1")
    ]
    plain = run(arch_env(tmp_path), "inspect", "-o", "json", *refs)
    assert plain.returncode == 0 and plain.stderr == ""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [str(BIN), "inspect", "-o", "json", "--refresh", *refs],
            env=arch_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == json.loads(plain.stdout)  # stdout is untouched
    text = seen.decode()
    assert "looking up images: 1/5" in text and "looking up images: 5/5" in text
    assert text.endswith("\r")  # the line is erased at the end


def test_each_manifest_of_an_index_graph_is_expanded_once(tmp_path: Path) -> None:
    """An index of 30 copies of an index of 30 copies ... four levels deep names 810,000
    leaves but only five manifests: each is read once and the answer has one platform."""
    from registry_util import LINUX_AMD64, client_for, descriptor, push_image, push_index, running

    with running(tmp_path / "graph") as registry:
        client = client_for(registry)
        host = registry.host
        leaf = push_image(client, f"{host}/graph/app:leaf", LINUX_AMD64)
        level = push_index(client, f"{host}/graph/app:l4", [descriptor(leaf, dict(LINUX_AMD64))])
        digests = [level.digest]
        for name in ("l3", "l2", "l1", "top"):
            level = push_index(client, f"{host}/graph/app:{name}", [descriptor(level)] * 30)
            digests.append(level.digest)
        proc = run(arch_env(tmp_path), "-v", "inspect", "-o", "json", f"{host}/graph/app:top")
        assert proc.returncode == 0, proc.stderr
        (info,) = json.loads(proc.stdout)
        assert [(p["os"], p["architecture"], p["digest"]) for p in info["platforms"]] == [
            ("linux", "amd64", leaf.digest)
        ]
        gets = requests_logged(proc.stderr)
        # The leaf is opened too: an OCI manifest in an index without attestations must show
        # it is an image, not an artifact tagged with a platform.
        assert gets == [f"GET http://{host}/v2/graph/app/manifests/top"] + [
            f"GET http://{host}/v2/graph/app/manifests/{d}" for d in reversed(digests[:-1])
        ] + [f"GET http://{host}/v2/graph/app/manifests/{leaf.digest}"]
        # One level deeper than the limit is refused, as before.
        deeper = push_index(client, f"{host}/graph/app:deeper", [descriptor(level)])
        refused = run(arch_env(tmp_path), "inspect", f"{host}/graph/app:deeper")
        assert refused.returncode == 3
        assert refused.stderr == f"error: image {host}/graph/app:deeper: indexes nested more than 4 deep\n"
        assert deeper.digest


def test_windows_build_check(populated_registry: Populated, tmp_path: Path) -> None:
    """--platform with a Windows host build accepts the images that build runs, by
    containerd's rules: an ltsc2022 host runs ltsc2022 images only, an ltsc2025 host ltsc2022
    ones too, an ltsc2019 host only ltsc2019 ones."""
    reg = populated_registry
    env = arch_env(tmp_path)
    ltsc2019, ltsc2022 = reg.ref("win/iis:ltsc2019"), reg.ref("win/iis:ltsc2022")
    every, single = reg.ref("win/servercore:all"), reg.ref("win/single:ltsc2019")
    on_2022 = run(
        env, "inspect", "--platform", "windows(10.0.20348)/amd64", ltsc2019, ltsc2022, every, single
    )
    assert on_2022.returncode == 1
    assert on_2022.stderr.splitlines() == [
        f"error: image {ltsc2019} lacks windows(10.0.20348)/amd64 (it has windows(10.0.17763.5458)/amd64)",
        f"error: image {single} lacks windows(10.0.20348)/amd64 (it has windows(10.0.17763.5458)/amd64)",
        "2 image(s) lack requested platforms",
    ]
    # crane's spelling; a 2025 host runs ltsc2022 images, not ltsc2019 ones
    on_2025 = run(env, "inspect", "--platform", "windows/amd64:10.0.26100", ltsc2022, every, "-o", "json")
    assert on_2025.returncode == 0, on_2025.stderr
    on_2019 = run(env, "inspect", "--platform", "windows(10.0.17763)/amd64", ltsc2022, "-o", "json")
    assert on_2019.stderr.splitlines()[0] == (
        f"error: image {ltsc2022} lacks windows(10.0.17763)/amd64 (it has windows(10.0.20348.2227)/amd64)"
    )
    # without a build, any Windows amd64 image will do
    assert run(env, "inspect", "--platform", "windows/amd64", ltsc2019, ltsc2022, single).returncode == 0
    bad = run(env, "inspect", "--platform", "windows(ltsc2022)/amd64", ltsc2022)
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "error: Invalid value for '--platform': invalid platform 'windows(ltsc2022)/amd64': Windows OS"
    )
