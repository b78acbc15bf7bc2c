"""Image references, normalised as Docker and crane do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry_util import arch_env

from kubectl_arch.registry.reference import (
    Reference,
    ReferenceError,
    check_host,
    familiar,
    is_loopback,
    parse,
)

BIN = Path(sys.executable).parent / "kubectl-arch"

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected", "api_host", "credential_key"),
    [
        ("nginx", "docker.io/library/nginx:latest", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("nginx:1.27", "docker.io/library/nginx:1.27", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("docker.io/nginx", "docker.io/library/nginx:latest", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx:latest", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("ghcr.io/org/app:v1.2.3", "ghcr.io/org/app:v1.2.3", "ghcr.io", "ghcr.io"),
        ("localhost/app", "localhost/app:latest", "localhost", "localhost"),
        ("localhost:5000/a/b/c:tag", "localhost:5000/a/b/c:tag", "localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000", "127.0.0.1:5000"),
        ("[::1]:5000/x:1", "[::1]:5000/x:1", "[::1]:5000", "[::1]:5000"),
        ("Registry/app", "Registry/app:latest", "Registry", "Registry"),  # upper case: a host
        (f"nginx@{D}", f"docker.io/library/nginx@{D}", "registry-1.docker.io", "https://index.docker.io/v1/"),
        (f"nginx:1.27@{D}", f"docker.io/library/nginx:1.27@{D}", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("quay.io/a_b/c-d.e__f:1", "quay.io/a_b/c-d.e__f:1", "quay.io", "quay.io"),
    ],
)  # fmt: skip
def test_normalisation(text: str, expected: str, api_host: str, credential_key: str) -> None:
    ref = parse(text)
    assert str(ref) == expected
    assert ref.api_host == api_host
    assert ref.credential_key == credential_key


def test_the_digest_wins() -> None:
    ref = parse(f"nginx:1.27@{D}")
    assert (ref.tag, ref.digest, ref.identifier) == ("1.27", D, D)
    assert parse("nginx").identifier == "latest"
    assert familiar(ref) == f"nginx:1.27@{D}"
    assert familiar(parse("ghcr.io/o/a:1")) == "ghcr.io/o/a:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty image reference"),
        ("Nginx", "invalid image reference 'Nginx': repository name must be lower-case"),
        ("ghcr.io/Org/app", "invalid image reference 'ghcr.io/Org/app': repository name must be lower-case"),
        ("https://ghcr.io/a", "invalid image reference 'https://ghcr.io/a': an image reference has no scheme (drop the 'https://')"),
        ("nginx:", "invalid image reference 'nginx:': invalid tag '' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')"),
        ("nginx:-x", "invalid image reference 'nginx:-x': invalid tag '-x' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')"),
        ("nginx@sha256:abc", "invalid image reference 'nginx@sha256:abc': invalid sha256 digest: expected 64 lower-case hex digits"),
        ("nginx@md5:" + "a" * 32, "invalid image reference 'nginx@md5:" + "a" * 32 + "': unsupported digest algorithm 'md5' (supported: sha256, sha512)"),
        ("a//b", "invalid image reference 'a//b': empty path component (double or trailing '/')"),
        ("ghcr.io/", "invalid image reference 'ghcr.io/': no repository name after the registry host"),
        ("a/-b", "invalid image reference 'a/-b': invalid repository path component '-b' (lower-case letters and digits, separated by '.', '_', '__' or '-')"),
        ("nginx latest", "invalid image reference 'nginx latest': contains white space"),
        ("a" * 64, f"invalid image reference '{'a' * 64}': a 64-character hexadecimal name is an image ID, not a reference"),
        ("example.com/" + "a/" * 130 + "b", None),
    ],
)  # fmt: skip
def test_invalid_references_say_why(text: str, message: str | None) -> None:
    with pytest.raises(ReferenceError) as exc:
        parse(text)
    if message is not None:
        assert str(exc.value) == message
    else:
        assert "name longer than 255 characters" in str(exc.value)


def test_loopback_hosts() -> None:
    """As Go's net.IP.IsLoopback (and its ProxyFromEnvironment) sees them: the one definition
    for plain HTTP and for proxies."""
    for host in (
        "localhost",
        "LOCALHOST:5000",
        "127.0.0.1",
        "127.1.2.3:80",
        "[::1]:5000",
        "[0:0:0:0:0:0:0:1]:5000",
        "[::ffff:127.0.0.1]:5000",
    ):
        assert is_loopback(host), host
    for host in ("ghcr.io", "10.0.0.1:5000", "[::2]:5000", "localhost.example.com", "app.localhost:5000"):
        assert not is_loopback(host), host


COMPONENT = st.from_regex(r"[a-z0-9]{1,5}([._-][a-z0-9]{1,5}){0,2}", fullmatch=True)
HOST = st.one_of(
    st.just(""),
    st.from_regex(r"[a-z][a-z0-9]{0,8}\.(io|com|dev)(:[1-9][0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000"]),
)


@given(
    host=HOST,
    path=st.lists(COMPONENT, min_size=1, max_size=4),
    tag=st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
    digest=st.one_of(st.just(""), st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True)),
)
def test_normalised_form_parses_to_itself(host: str, path: list[str], tag: str, digest: str) -> None:
    text = (
        (f"{host}/" if host else "")
        + "/".join(path)
        + (f":{tag}" if tag else "")
        + (f"@{digest}" if digest else "")
    )
    if len("/".join(path)) == 64 and all(c in "0123456789abcdef" for c in "".join(path)):
        return  # an image ID
    if not host and len(path) > 1 and "." in path[0]:
        return  # "a.b/c": the first component is a host name, as for Docker
    ref = parse(text)
    assert parse(str(ref)) == (ref if ref.tag or ref.digest else ref._replace(tag="latest"))
    assert isinstance(ref, Reference)
    assert ref.digest == digest
    assert parse(familiar(ref)) == ref


HOST_HINT = "give HOST or HOST:PORT, e.g. registry.lab:5000"


def arch(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-A", f"'-A' is not a registry host (a flag given where a host belongs?); {HOST_HINT}"),
        ("--all-namespaces", f"'--all-namespaces' is not a registry host (a flag given where a host belongs?); {HOST_HINT}"),
        ("http://registry.lab:5000", f"'http://registry.lab:5000' is not a registry host: no scheme (http://, https://); {HOST_HINT}"),
        ("registry.lab:5000/team", f"'registry.lab:5000/team' is not a registry host: no path; {HOST_HINT}"),
        ("registry .lab", f"'registry .lab' is not a registry host: it contains spaces; {HOST_HINT}"),
        ("registry.lab:99999", f"'registry.lab:99999' is not a registry host; {HOST_HINT}"),
        ("registry.lab:", f"'registry.lab:' is not a registry host; {HOST_HINT}"),
        ("", f"an empty value is not a registry host; {HOST_HINT}"),
    ],
)  # fmt: skip
def test_registry_hosts_as_flags_name_them(value: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        check_host(value)
    assert str(caught.value) == why
    for command, *more in (("audit", "-A"), ("inspect",), ("pin",), ("check",), ("build",)):
        assert arch(arch_env(tmp_path), command, "--insecure-registry", value, *more) == (
            2,
            "",
            f"error: Invalid value for '--insecure-registry': {why}\n"
            f"See 'kubectl arch {command} --help' for usage.\n",
        )


@pytest.mark.parametrize(
    "value", ["registry.lab", "registry.lab:5000", "127.0.0.1:5000", "[::1]:5000", "localhost"]
)
def test_registry_hosts_that_are_hosts(value: str) -> None:
    assert check_host(value) == value


def test_insecure_registries_of_the_config_file_are_hosts(tmp_path: Path) -> None:
    config = tmp_path / "config" / "kubectl-arch" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("insecureRegistries: [registry.lab:5000, 'https://other.lab']\n")
    env = arch_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = arch(env, "inspect", "registry.lab:5000/app:1")
    assert (proc[0], proc[2]) == (
        2,
        f"error: {config}: insecureRegistries: 'https://other.lab' is not a registry host: no scheme "
        f"(http://, https://); {HOST_HINT}\n",
    )


def test_insecure_registries_of_a_pin_config_are_hosts(tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    config.write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  insecure-registry: "-A"\n'
    )
    pod = tmp_path / "p.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x:5000/a:1\n"
    )
    assert arch(arch_env(tmp_path), "pin", "--config", str(config), "-f", str(pod)) == (
        2,
        "",
        f"error: {config} ConfigMap: insecure-registry: '-A' is not a registry host (a flag given where a host "
        f"belongs?); {HOST_HINT}\n",
    )
