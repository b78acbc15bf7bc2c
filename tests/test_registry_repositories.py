"""Whether a repository needs credentials is that repository's answer, never the host's: a
registry may serve some repositories anonymously and refuse others (Nexus and Artifactory
anonymous access, Harbor public projects, htpasswd with per-repository rules, a token service
that refuses or fails one scope). One private repository looked up first must cost the others
nothing, in ``inspect`` (concurrent look-ups) as in a client that looks them up one by one,
and in ``audit --target``'s search for newer tags."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from faulty_registry import Answer, FaultyRegistry, Seen, faulty
from registry_util import arch_env
from test_registry_hostile import config_of, digest, manifest_of, run, serve_image, serve_index

from kubectl_arch import platforms as plat
from kubectl_arch.errors import Error
from kubectl_arch.registry import updates
from kubectl_arch.registry.cache import Cache
from kubectl_arch.registry.client import Client, Options
from kubectl_arch.registry.images import Inspector

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="registry"'}


def inspector(tmp_path: Path) -> Inspector:
    return Inspector(Client(Options(timeout=5.0, retries=1, backoff=0.01)), Cache(str(tmp_path / "cache")))


def one_by_one(looking: Inspector, *images: str) -> list[str]:
    """Each image looked up alone, in turn, by one client: its error, or its first architecture."""
    answers = [looking.inspect_all([image], note_cached=False)[image] for image in images]
    return [str(a) if isinstance(a, Error) else a.platforms[0].platform.architecture for a in answers]


def serve_both(server: FaultyRegistry, name: str, tag: str) -> None:
    """An index of ``name:tag`` with an amd64 and an arm64 image."""
    entries = []
    for platform in (AMD64, ARM64):
        config = config_of(platform)
        manifest = manifest_of(config)
        server.on(
            f"/v2/{name}/manifests/{digest(manifest)}", Answer(200, manifest, {"Content-Type": OCI_MANIFEST})
        )
        server.on(f"/v2/{name}/blobs/{digest(config)}", Answer(200, config))
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest(manifest),
                "size": len(manifest),
                "platform": platform,
            }
        )
    serve_index(server, name, tag, entries)


def tag_list(server: FaultyRegistry, name: str, tags: list[str]) -> None:
    body = json.dumps({"name": name, "tags": tags}).encode()
    server.on(f"/v2/{name}/tags/list", Answer(200, body, {"Content-Type": "application/json"}))


def basic_layout(server: FaultyRegistry) -> tuple[str, str, str]:
    """f/priv answers 401 (Basic) to everything; f/alp and f/nonmono are public."""
    for path in ("/v2/f/priv/manifests/1.0", "/v2/f/priv/tags/list"):
        server.on(path, Answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', BASIC_CHALLENGE))
    serve_image(server, "f/alp", "1.0-alpine", AMD64)
    serve_image(server, "f/alp", "1.1-alpine", AMD64)
    serve_both(server, "f/alp", "1.2-alpine")
    tag_list(server, "f/alp", ["1.0-alpine", "1.1", "1.1-alpine", "1.2-alpine"])
    serve_image(server, "f/nonmono", "1.0", AMD64)
    serve_both(server, "f/nonmono", "1.1")
    serve_both(server, "f/nonmono", "1.2")
    tag_list(server, "f/nonmono", ["1.0", "1.1", "1.2"])
    host = server.host
    return f"{host}/f/priv:1.0", f"{host}/f/alp:1.0-alpine", f"{host}/f/nonmono:1.0"


def basic_refusal(host: str) -> str:
    return (
        f"{host} requires a user name and password (Basic auth) for f/priv and none is stored; "
        f"log in with: docker login {host}"
    )


def test_one_private_repository_costs_the_others_nothing_in_inspect(tmp_path: Path) -> None:
    with faulty() as server:
        priv, alp, nonmono = basic_layout(server)
        for _ in range(3):  # concurrent look-ups: whichever goes first
            proc = run(arch_env(tmp_path), "inspect", "-o", "json", priv, alp, nonmono)
            assert proc.returncode == 3
            assert proc.stderr == f"error: image {priv}: {basic_refusal(server.host)}\n"
            assert [
                (i["reference"], [p["architecture"] for p in i["platforms"]]) for i in json.loads(proc.stdout)
            ] == [
                (alp, ["amd64"]),
                (nonmono, ["amd64"]),
            ]
        # One by one, the private repository first, with one client: each asks on its own.
        server.seen.clear()
        assert one_by_one(inspector(tmp_path), priv, alp, nonmono, priv) == [
            f"image {priv}: {basic_refusal(server.host)}",
            "amd64",
            "amd64",
            f"image {priv}: {basic_refusal(server.host)}",
        ]
        assert [
            (s.path, s.headers.get("Authorization")) for s in server.seen if "/manifests/1." in s.path
        ] == [
            ("/v2/f/priv/manifests/1.0", None),
            ("/v2/f/alp/manifests/1.0-alpine", None),
            ("/v2/f/nonmono/manifests/1.0", None),
            ("/v2/f/priv/manifests/1.0", None),
        ]


def test_one_private_repository_costs_the_others_nothing_in_the_tag_search(tmp_path: Path) -> None:
    arm64 = plat.parse("linux/arm64")
    with faulty() as server:
        priv, alp, nonmono = basic_layout(server)
        refused = f"image {priv}: newer tags not searched: {basic_refusal(server.host)}"
        host = server.host
        blocked = {priv: [arm64], alp: [arm64], nonmono: [arm64]}
        for _ in range(3):  # concurrently
            found = updates.search(inspector(tmp_path), blocked)
            assert found == updates.Search(
                {(alp, arm64): f"{host}/f/alp:1.2-alpine", (nonmono, arm64): f"{host}/f/nonmono:1.1"},
                [refused],
            )
        looking = inspector(tmp_path)  # one by one, the private repository first
        assert updates.search(looking, {priv: [arm64]}) == updates.Search({}, [refused])
        assert updates.search(looking, {alp: [arm64]}) == updates.Search(
            {(alp, arm64): f"{host}/f/alp:1.2-alpine"}, []
        )
        assert updates.search(looking, {nonmono: [arm64]}) == updates.Search(
            {(nonmono, arm64): f"{host}/f/nonmono:1.1"}, []
        )


def bearer_layout(server: FaultyRegistry, realm: str, public_needs_token: bool) -> tuple[str, str, str]:
    """Every repository of ``server`` answers 401 Bearer without the token "good" (the public
    ones only when ``public_needs_token``)."""
    challenge = {"WWW-Authenticate": f'Bearer realm="{realm}",service="registry"'}
    unauthorized = Answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', challenge)
    server.on("/v2/f/priv/manifests/1.0", unauthorized)
    serve_image(server, "f/alp", "1.0-alpine", AMD64)
    serve_image(server, "f/nonmono", "1.0", AMD64)
    if public_needs_token:
        for (method, path, _), answers in list(server.script.items()):
            if not path.startswith("/v2/f/priv"):
                server.script[(method, path, "Bearer good")] = answers
                server.script[(method, path, None)] = [unauthorized]
    host = server.host
    return f"{host}/f/priv:1.0", f"{host}/f/alp:1.0-alpine", f"{host}/f/nonmono:1.0"


def token_service(refusal: int, refuse_all: bool) -> object:
    """A token service's answers: ``refusal`` for a request naming f/priv (or any, with
    ``refuse_all``), the token "good" otherwise."""

    def respond(seen: Seen) -> Answer:
        scopes = " ".join(parse_qs(urlsplit(seen.path).query).get("scope", []))
        if refuse_all or "f/priv" in scopes:
            return Answer(refusal, b'{"errors":[{"code":"DENIED","message":"no"}]}')
        return Answer(200, json.dumps({"token": "good", "expires_in": 300}).encode())

    return respond


@pytest.mark.parametrize(
    ("refusal", "public_needs_token"),
    [(401, True), (403, True), (500, True), (401, False), (500, False)],
)
def test_a_token_service_that_refuses_one_repository(
    tmp_path: Path, refusal: int, public_needs_token: bool
) -> None:
    """A realm that refuses (or fails for) f/priv: f/priv's error, the others' answers. Where
    the public repositories need no token at all, a token service that fails for everything
    costs them nothing either: the host's challenge, learnt from f/priv, is only a hint."""
    with faulty() as server, faulty() as tokens:
        tokens.respond = token_service(refusal, refuse_all=not public_needs_token)  # type: ignore[assignment]
        priv, alp, nonmono = bearer_layout(server, f"http://{tokens.host}/token", public_needs_token)
        if refusal == 500:
            why = f"{server.host}: its token service {tokens.host} answered 500"
        else:
            why = (
                f"{server.host}: the token service {tokens.host} refused access anonymously ({refusal}: "
                f"DENIED: no); check the credentials (docker login {server.host})"
            )
        for _ in range(2):
            proc = run(arch_env(tmp_path), "inspect", "-o", "json", priv, alp, nonmono)
            assert proc.stderr == f"error: image {priv}: {why}\n"
            assert proc.returncode == 3
            assert [i["reference"] for i in json.loads(proc.stdout)] == [alp, nonmono]
        tokens.seen.clear()
        assert one_by_one(inspector(tmp_path), priv, alp, nonmono) == [
            f"image {priv}: {why}",
            "amd64",
            "amd64",
        ]


def test_audit_keeps_each_repository_s_answer_and_says_which_search_was_incomplete(tmp_path: Path) -> None:
    """The tester's cluster: a ReplicationController of the private image, read first (the
    Deployments' list is slow), then Deployments of public images of the same registry, and
    one whose candidate 1.3 (the lowest with arm64 may be it) cannot be read."""
    import subprocess

    from apiserver import ApiServer, load_nodes
    from cluster_util import KUBECTL_ARCH, REPO

    def workload(kind: str, api_version: str, name: str, image: str) -> dict:
        template = {"spec": {"containers": [{"name": "c", "image": image}]}}
        spec = {"selector": {"app": name}, "template": template}
        return {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": "a", "uid": f"u-{name}"},
            "spec": spec,
        }

    with faulty() as server:
        priv, alp, nonmono = basic_layout(server)
        host = server.host
        serve_image(server, "f/lowest", "1.0", AMD64)
        serve_image(server, "f/lowest", "1.1", AMD64)
        server.on("/v2/f/lowest/manifests/1.2", Answer(404, b""))
        serve_both(server, "f/lowest", "1.3")
        tag_list(server, "f/lowest", ["1.0", "1.1", "1.2", "1.3"])
        lowest = f"{host}/f/lowest:1.0"
        objects = [
            workload("ReplicationController", "v1", "priv", priv),
            workload("Deployment", "apps/v1", "alp", alp),
            workload("Deployment", "apps/v1", "nonmono", nonmono),
            workload("Deployment", "apps/v1", "lowest", lowest),
        ]
        nodes = load_nodes(REPO / "testdata" / "nodes" / "eks-mixed.json")
        with ApiServer(nodes, objects=objects, delay=1.0, faulty=frozenset({"deployments"})) as api:
            config = api.kubeconfig(tmp_path / "kubeconfig", namespace="a")
            proc = subprocess.run(
                [
                    str(KUBECTL_ARCH),
                    "audit",
                    "-o",
                    "json",
                    "--target",
                    "linux/arm64",
                    "--insecure-registry",
                    host,
                ],
                capture_output=True,
                text=True,
                env=arch_env(tmp_path, KUBECONFIG=str(config)),
                stdin=subprocess.DEVNULL,
                timeout=120,
                check=False,
            )
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    incomplete = (
        f"image {lowest}: the search for a newer tag with linux/arm64 is incomplete, no tag is suggested: "
        f"image {host}/f/lowest:1.2: 404 Not Found from {host}: manifest 1.2 not found; is the name right? "
        "(a private repository may also answer 404 without credentials)"
    )
    private = (
        f"image {priv}: {host} requires a user name and password (Basic auth) for f/priv and none is "
        f"stored; log in with: docker login {host}"
    )
    assert document["warnings"] == [private, incomplete]
    assert f"warning: {incomplete}\n" in proc.stderr
    assert f"warning: {private}\n" in proc.stderr
    got = {w["name"]: (w["status"], w["target"]) for w in document["workloads"]}

    def blocked(image: str, update: str = "") -> list[dict]:
        entry = {"image": image, **({"update": update} if update else {})}
        return [{"platform": "linux/arm64", "ready": False, "blockedBy": [entry]}]

    assert got == {
        "priv": ("unknown", [{"platform": "linux/arm64", "ready": None, "blockedBy": []}]),
        "alp": ("at-risk", blocked(alp, f"{host}/f/alp:1.2-alpine")),
        "nonmono": ("at-risk", blocked(nonmono, f"{host}/f/nonmono:1.1")),
        "lowest": ("at-risk", blocked(lowest)),
    }
    priv_entry = next(w for w in document["workloads"] if w["name"] == "priv")
    assert priv_entry["images"][0]["error"] == f"image {priv}: {basic_refusal(host)}"
