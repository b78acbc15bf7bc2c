"""The pure parts of the registry client: manifests and indexes to platforms, challenges,
the cache, platform matching."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_arch import platforms as plat
from kubectl_arch.registry import auth, index
from kubectl_arch.registry.cache import Cache


def descriptor(arch: str, **extra: object) -> dict:
    digest = "sha256:" + hashlib.sha256(arch.encode()).hexdigest()
    return {"mediaType": index.OCI_MANIFEST, "digest": digest, "size": 10, **extra}


def test_index_entries_attestations_are_not_platforms() -> None:
    document = {
        "schemaVersion": 2,
        "mediaType": index.OCI_INDEX,
        "manifests": [
            descriptor("amd64", platform={"os": "linux", "architecture": "amd64"}),
            descriptor("arm64", platform={"os": "linux", "architecture": "aarch64", "variant": "8"}),
            descriptor("x", platform={"os": "unknown", "architecture": "unknown"}),
            descriptor(
                "y",
                platform={"os": "linux", "architecture": "amd64"},
                annotations={"vnd.docker.reference.type": "attestation-manifest"},
            ),
            descriptor("win", platform={"os": "windows", "architecture": "amd64", "os.version": "10.0.1"}),
        ],
    }
    parsed = index.parse(json.dumps(document).encode(), index.OCI_INDEX)
    assert isinstance(parsed, index.Index)
    assert [(d.platform, d.attestation) for d in parsed.manifests] == [
        (plat.Platform("linux", "amd64"), False),
        (plat.Platform("linux", "arm64"), False),
        (None, True),  # skipped entries carry no platform
        (None, True),
        (plat.Platform("windows", "amd64", "", "10.0.1"), False),
    ]


def test_single_manifests_and_configs() -> None:
    manifest = {
        "schemaVersion": 2,
        "config": {"mediaType": index.DOCKER_CONFIG, "digest": "sha256:" + "c" * 64, "size": 3},
    }
    data = json.dumps(manifest).encode()
    assert index.media_type_of(data, "application/json") == index.OCI_MANIFEST  # from its shape
    assert index.media_type_of(data, index.DOCKER_MANIFEST + "; charset=utf-8") == index.DOCKER_MANIFEST
    parsed = index.parse(data, index.DOCKER_MANIFEST)
    assert isinstance(parsed, index.Image) and parsed.config.digest == "sha256:" + "c" * 64
    config = json.dumps({"os": "Linux", "architecture": "x86_64", "variant": "v1", "os.version": ""}).encode()
    assert index.config_platform(config) == plat.Platform("linux", "amd64")
    assert index.config_platform(b'{"architecture": "arm"}') is None
    assert index.config_platform(b'{"os": "unknown", "architecture": "unknown"}') is None


@pytest.mark.parametrize(
    ("data", "media_type", "message"),
    [
        (b'{"schemaVersion": 1}', index.DOCKER_SCHEMA1, "is a Docker schema 1 manifest"),
        (b'{"schemaVersion": 1, "fsLayers": []}', "application/json", "is a Docker schema 1 manifest"),
        (b"not json", index.OCI_INDEX, "is not valid JSON"),
        (b"[]", index.OCI_INDEX, "is not a JSON object"),
        (b'{"schemaVersion": 2}', index.OCI_INDEX, "index has no 'manifests' list"),
        (b'{"schemaVersion": 2, "manifests": [{"size": 1}]}', index.OCI_INDEX, "entry 0 has no digest"),
        (b'{"schemaVersion": 2}', "text/html", "unsupported media type 'text/html'"),
    ],
)
def test_bad_manifests(data: bytes, media_type: str, message: str) -> None:
    with pytest.raises(index.ManifestError) as exc:
        index.parse(data, index.media_type_of(data, media_type))
    assert message in str(exc.value)


def test_verify() -> None:
    index.verify(b"abc", index.digest_of(b"abc"), "x")
    index.verify(b"abc", index.digest_of(b"abc", "sha512"), "x")
    with pytest.raises(index.ManifestError, match="content does not match its digest"):
        index.verify(b"abd", index.digest_of(b"abc"), "x")


PLATFORMS = st.builds(
    lambda os, arch, variant, version: plat.normalize(os, arch, variant, version),
    st.sampled_from(["linux", "windows", "darwin"]),
    st.sampled_from(["amd64", "arm64", "arm", "386", "s390x", "riscv64"]),
    st.sampled_from(["", "v6", "v7", "v8", "v2"]),
    st.sampled_from(["", "10.0.17763.1"]),
)


@given(platform=PLATFORMS, digest=st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True))
def test_platform_json_round_trip(platform: plat.Platform, digest: str) -> None:
    entry = index.Entry(platform, digest, index.OCI_MANIFEST, 0)
    out = index.platform_json(entry)
    assert ("variant" in out) == bool(platform.variant)
    assert ("os.version" in out) == bool(platform.os_version)
    assert index.entry_from_json(json.loads(json.dumps(out))) == entry


@given(wanted=PLATFORMS, offered=PLATFORMS)
def test_matching_rules(wanted: plat.Platform, offered: plat.Platform) -> None:
    exact = plat.matches(wanted, offered)
    fallback = plat.matches(wanted, offered, allow_variant_fallback=True)
    assert exact == (
        (wanted.os, wanted.architecture, wanted.variant)
        == (offered.os, offered.architecture, offered.variant)
    )
    assert fallback >= exact  # fallback only ever accepts more
    if fallback and not exact:
        order = plat.VARIANT_ORDER[wanted.architecture]
        assert order.index(offered.variant) < order.index(wanted.variant)


def test_containerd_examples() -> None:
    p = plat.parse
    assert plat.matches(p("linux/arm64"), p("linux/arm64/v8"))
    assert not plat.matches(p("linux/arm/v7"), p("linux/arm/v6"))
    assert plat.matches(p("linux/arm/v7"), p("linux/arm/v6"), allow_variant_fallback=True)
    assert not plat.matches(p("linux/arm/v7"), p("linux/arm/v8"), allow_variant_fallback=True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
            [("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/nginx:pull"})],
        ),
        ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
        (
            'Basic realm="a, b", Bearer realm="https://x/t",error="insufficient_scope"',
            [("basic", {"realm": "a, b"}), ("bearer", {"realm": "https://x/t", "error": "insufficient_scope"})],
        ),
        ('bearer realm=https://x/t , service=svc', [("bearer", {"realm": "https://x/t", "service": "svc"})]),
        ('Bearer realm="quote \\" inside"', [("bearer", {"realm": 'quote " inside'})]),
        ("", []),
    ],
)  # fmt: skip
def test_challenges(header: str, expected: list) -> None:
    assert [(c.scheme, dict(c.params)) for c in auth.parse_challenges(header)] == expected


def test_credentials_never_print() -> None:
    credential = auth.Credential("alice", "pa55word", "id-token", source="x")
    assert "pa55word" not in repr(credential) and "id-token" not in str(credential)


def test_cache(tmp_path: Path) -> None:
    cache = Cache(str(tmp_path), tag_ttl=60)
    data = b'{"schemaVersion": 2}'
    digest = index.digest_of(data)
    assert cache.manifest(digest) is None
    cache.put_manifest(digest, data, index.OCI_INDEX)
    assert cache.manifest(digest) == (data, index.OCI_INDEX)
    cache.put_manifest("sha256:" + "0" * 64, data, index.OCI_INDEX)  # wrong digest: not stored
    assert cache.manifest("sha256:" + "0" * 64) is None
    # A damaged file is a miss, and is removed.
    path = tmp_path / "manifests" / "sha256" / digest.split(":")[1]
    path.write_bytes(path.read_bytes() + b" ")
    assert cache.manifest(digest) is None
    assert not path.exists()
    cache.put_tag("ghcr.io/a/b:1", digest, index.OCI_INDEX)
    assert cache.tag("ghcr.io/a/b:1")[:3] == (digest, index.OCI_INDEX, True)
    assert Cache(str(tmp_path), tag_ttl=60, refresh=True).tag("ghcr.io/a/b:1")[:3] == (
        digest,
        index.OCI_INDEX,
        False,
    )
    assert Cache(str(tmp_path)).tag("ghcr.io/a/b:1")[:3] == (digest, index.OCI_INDEX, False)  # TTL 0
    tag_file = next((tmp_path / "tags").iterdir())
    entry = json.loads(tag_file.read_text())
    entry["time"] = time.time() - 120
    tag_file.write_text(json.dumps(entry))
    stale = cache.tag("ghcr.io/a/b:1")
    assert stale is not None and stale[:3] == (digest, index.OCI_INDEX, False)  # stale: revalidate
    assert 119 < stale.age < 130
    assert [p.name for p in (tmp_path / "tags").iterdir() if p.name.startswith(".tmp")] == []


def test_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    cache = Cache(str(blocked / "sub"))
    cache.put_blob(index.digest_of(b"x"), b"x")  # no error
    assert cache.blob(index.digest_of(b"x")) is None
    assert os.path.isfile(blocked)
