"""Tag shapes and newer tags (pure, table tests), the tag list read with the registry's paging
(the real registry, and a hostile one), and the bounded search for a newer tag that adds a
platform."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faulty_registry import Answer, faulty
from registry_util import LINUX_AMD64, LINUX_ARM64, Populated, client_for, push_image, push_multiarch

from kubectl_arch import platforms as plat
from kubectl_arch.registry.cache import Cache
from kubectl_arch.registry.client import Client, Options, RegistryError
from kubectl_arch.registry.images import Inspector
from kubectl_arch.registry.reference import parse
from kubectl_arch.registry.tags import Shape, newer, shape
from kubectl_arch.registry.updates import retagged, search_one

SHAPES = [
    ("1.25.3", Shape("", (1, 25, 3), "")),
    ("v2.1", Shape("v", (2, 1), "")),
    ("1.25.3-alpine", Shape("", (1, 25, 3), "-alpine")),
    ("1.25.3-alpine3.19", Shape("", (1, 25, 3), "-alpine3.19")),
    ("20240601", Shape("", (20240601,), "")),
    ("3.12_rc", Shape("", (3, 12), "_rc")),
    ("latest", None),
    ("stable", None),
    ("sha-1a2b3c", None),
    ("V1.2", None),  # only a lower-case v, as tags are written
    ("1.2.", None),
    (".1", None),
    ("1" * 19, None),  # a number too long to be a version
    ("1." * 70 + "1", None),  # longer than a tag may be
]


@pytest.mark.parametrize(("tag", "expected"), SHAPES, ids=[t[:20] for t, _ in SHAPES])
def test_shape(tag: str, expected: Shape | None) -> None:
    assert shape(tag) == expected


NEWER = [
    ("1.25.3", ["1.25.2", "1.25.3", "1.25.10", "1.26.0", "1.26", "1.26.0-alpine", "v1.26.0", "latest"],
     ["1.25.10", "1.26.0"]),
    ("1.25.3-alpine", ["1.26.0-alpine", "1.26-alpine", "1.26.0", "v1.26.0-alpine", "1.26.0-rc1", "1.25.10-alpine"],
     ["1.25.10-alpine", "1.26.0-alpine"]),
    ("v1.9", ["v1.10", "v1.9", "v1.8", "v2.0", "1.10"], ["v1.10", "v2.0"]),
    ("1.9", ["1.10", "1.09", "1.9"], ["1.10"]),
    ("1.2", ["1.02", "1.3", "01.3"], ["01.3", "1.3"]),  # equal numbers: in text order
    ("latest", ["1.0", "2.0"], []),
    ("1.0", [], []),
    ("1.0", ["1.0", "1.0"], []),
]  # fmt: skip


@pytest.mark.parametrize(("current", "tags", "expected"), NEWER, ids=[c for c, _, _ in NEWER])
def test_newer(current: str, tags: list[str], expected: list[str]) -> None:
    assert newer(current, tags) == expected


@pytest.mark.parametrize(
    ("image", "tag", "expected"),
    [
        ("nginx:1.25", "1.26", "nginx:1.26"),
        ("127.0.0.1:5000/a/b:1.0", "1.1", "127.0.0.1:5000/a/b:1.1"),
        ("127.0.0.1:5000/a/b:1.0@sha256:" + "a" * 64, "1.1", "127.0.0.1:5000/a/b:1.1"),
        ("127.0.0.1:5000/a/b", "1.1", "127.0.0.1:5000/a/b:1.1"),
    ],
)
def test_retagged(image: str, tag: str, expected: str) -> None:
    assert retagged(image, tag) == expected


# -- the tag list ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(populated_registry: Populated) -> str:
    """A repository of amd64-only tags 1.0..1.9 where arm64 arrives with 1.6, and 2.0-rc1."""
    client = client_for(populated_registry.registry)
    name = f"{populated_registry.registry.host}/tags/app"
    for minor in range(10):
        platforms = [LINUX_AMD64, LINUX_ARM64] if minor >= 6 else [LINUX_AMD64]
        push_multiarch(client, f"{name}:1.{minor}", platforms)
    push_image(client, f"{name}:2.0-rc1", LINUX_ARM64)
    return name


def test_the_real_registry_lists_every_tag(populated_registry: Populated, versions: str) -> None:
    """Distribution 2.8 answers the whole list at once (it pages only from 3.0): one request."""
    client = client_for(populated_registry.registry)
    listed = client.list_tags(parse(versions + ":1.0"), page=3)
    assert sorted(listed) == [f"1.{i}" for i in range(10)] + ["2.0-rc1"]


def page(tags: list[str], link: str = "") -> Answer:
    body = json.dumps({"name": "team/app", "tags": tags}).encode()
    return Answer(200, body, {"Content-Type": "application/json", **({"Link": link} if link else {})})


def test_the_tag_list_is_read_page_by_page() -> None:
    """As Docker Hub and distribution 3 page it: n per page, the next page in a Link header."""
    with faulty() as server:
        server.on(
            "/v2/team/app/tags/list",
            page(["1.0", "1.1"], '</v2/team/app/tags/list?last=1.1&n=2>; rel="next"'),
            page(["1.2", "1.3"], f'<http://{server.host}/v2/team/app/tags/list?last=1.3&n=2>; rel="next"'),
            page(["1.4"]),
        )
        client = client_for()
        ref = parse(f"{server.host}/team/app:1.0")
        assert client.list_tags(ref, page=2) == ["1.0", "1.1", "1.2", "1.3", "1.4"]
        assert [s.path for s in server.requests_to("/v2/team/app/tags/list")] == [
            "/v2/team/app/tags/list?n=2",
            "/v2/team/app/tags/list?last=1.1&n=2",
            "/v2/team/app/tags/list?last=1.3&n=2",
        ]
        server.on(
            "/v2/team/app/tags/list",
            page(["1.0"], '</v2/team/app/tags/list?last=1.0&n=1>; rel="next"'),
            page(["1.1"], '</v2/team/app/tags/list?last=1.1&n=1>; rel="next"'),
            page(["1.2"], '</v2/team/app/tags/list?last=1.2&n=1>; rel="next"'),
        )
        with pytest.raises(RegistryError) as caught:
            client.list_tags(ref, page=1, max_pages=2)
        assert (
            str(caught.value) == f"{server.host}: the tag list of team/app is longer than 2 pages of 1 tags"
        )


def test_the_lowest_newer_tag_with_the_platform_within_the_bound(
    populated_registry: Populated, versions: str
) -> None:
    from kubectl_arch import registry

    inspector = registry.open_inspector(registry.Settings(refresh=True))
    arm64 = plat.parse("linux/arm64")
    try:
        found, note = search_one(inspector, versions + ":1.0", [arm64], limit=8)
        assert (found, note) == ({arm64: versions + ":1.6"}, "")
        # 1.9 first (it has arm64), then a binary search over 1.1 .. 1.9: 1.5, 1.7, 1.6. Cut
        # short, the answer is a tag that was looked up and has the platform, not the lowest.
        assert search_one(inspector, versions + ":1.0", [arm64], limit=2)[0] == {arm64: versions + ":1.9"}
        assert search_one(inspector, versions + ":1.0", [arm64], limit=3)[0] == {arm64: versions + ":1.7"}
        assert search_one(inspector, versions + ":1.0", [plat.parse("linux/s390x")], limit=8) == ({}, "")
        assert search_one(inspector, versions + ":1.9", [arm64], limit=8) == ({}, "")  # nothing newer
        assert search_one(inspector, versions + ":2.0-rc1", [arm64], limit=8) == ({}, "")
    finally:
        inspector.client.close()


def test_hostile_tag_lists() -> None:
    with faulty() as server:
        ref = parse(f"{server.host}/evil/app:1.0")
        client = client_for()
        tags = json.dumps({"name": "evil/app", "tags": ["1.0", "1.1"]}).encode()
        elsewhere = Answer(
            200, tags, {"Link": '<http://127.0.0.2:1/v2/evil/app/tags/list?last=1.1>; rel="next"'}
        )
        server.on("/v2/evil/app/tags/list", elsewhere)
        with pytest.raises(RegistryError) as caught:
            client.list_tags(ref)
        assert str(caught.value) == f"{server.host}: the tag list of evil/app continues on another host"
        again = Answer(200, tags, {"Link": '</v2/evil/app/tags/list?last=1.1&n=1000>; rel="next"'})
        server.on("/v2/evil/app/tags/list", again)
        with pytest.raises(RegistryError) as caught:
            client.list_tags(ref)
        assert (
            str(caught.value) == f"{server.host}: the tag list of evil/app repeats a page; it would never end"
        )
        server.on("/v2/evil/app/tags/list", Answer(200, b"[" * 100_000))
        with pytest.raises(RegistryError) as caught:
            client.list_tags(ref)
        assert str(caught.value) == f"{server.host}: the tag list of evil/app is not a JSON tag list"
        server.on("/v2/evil/app/tags/list", Answer(200, b'{"tags": null}'))
        assert client.list_tags(ref) == []
        unreadable = f"{server.host}: the tag list of evil/app is not a JSON tag list"
        for body, why in [
            (b'{"name": "evil/app", "tags": {"1.1": 1}}', " ('tags' is not a list of strings)"),
            (b'{"name": "evil/app", "tags": ["1.1", 2]}', " ('tags' is not a list of strings)"),
            (b'{"name": "evil/app", "tags": "1.1"}', " ('tags' is not a list of strings)"),
            (b'["1.1"]', " (not an object)"),
        ]:
            server.on("/v2/evil/app/tags/list", Answer(200, body))
            with pytest.raises(RegistryError) as caught:
                client.list_tags(ref)
            assert str(caught.value) == unreadable + why, body
        # A later page that is malformed spoils the whole list, never a shorter one.
        server.on(
            "/v2/evil/app/tags/list",
            Answer(200, tags, {"Link": '</v2/evil/app/tags/list?last=1.1&n=2>; rel="next"'}),
            Answer(200, b'{"name": "evil/app", "tags": {"1.2": 1}}'),
        )
        with pytest.raises(RegistryError) as caught:
            client.list_tags(ref)
        assert str(caught.value) == unreadable + " ('tags' is not a list of strings)"


def test_a_candidate_that_cannot_be_read_is_neither_yes_nor_no(tmp_path: Path) -> None:
    """1.1 .. 1.7 newer than 1.0, arm64 from 1.3 on. A candidate the search needs that cannot
    be read (404, 401, not JSON, a stall) makes the search incomplete, said in one line naming
    the tag and why, and no tag is suggested: never a higher tag for the lowest, nor "none"."""
    from faulty_registry import FaultyRegistry
    from test_registry_hostile import digest, serve_image
    from test_registry_repositories import AMD64, inspector, serve_both, tag_list

    arm64 = plat.parse("linux/arm64")
    tags = ["1.0", *(f"1.{i}" for i in range(1, 8))]

    def layout(server: FaultyRegistry, name: str, unread: dict[str, Answer]) -> str:
        serve_image(server, name, "1.0", AMD64)
        for tag in tags[1:]:
            if tag in unread:
                server.on(f"/v2/{name}/manifests/{tag}", unread[tag])
            elif tag < "1.3":
                serve_image(server, name, tag, AMD64)
            else:
                serve_both(server, name, tag)
        tag_list(server, name, tags)
        return f"{server.host}/{name}:1.0"

    missing = Answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}')
    refused = Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'})
    garbage = Answer(200, b"{not json", {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with faulty() as server:
        host = server.host
        cases = {
            # Looked up: 1.7, 1.4, 1.2, 1.3. An unread tag above the lowest costs nothing.
            "f/whole": ({}, ({arm64: f"{host}/f/whole:1.3"}, "")),
            "f/above": ({"1.4": missing}, ({arm64: f"{host}/f/above:1.3"}, "")),
            "f/newest": ({"1.7": refused}, ({arm64: f"{host}/f/newest:1.3"}, "")),
            # The lowest may be the unread tag: 1.4 has arm64, but is not suggested.
            "f/lowest": (
                {"1.3": garbage},
                (
                    {},
                    f"image {host}/f/lowest:1.0: the search for a newer tag with linux/arm64 is incomplete, no "
                    f"tag is suggested: image {host}/f/lowest:1.3: manifest {digest(b'{not json')} is not "
                    "valid JSON (Expecting property name enclosed in double quotes: line 1 column 2)",
                ),
            ),
            "f/below": (
                {"1.2": missing},
                (
                    {},
                    f"image {host}/f/below:1.0: the search for a newer tag with linux/arm64 is incomplete, no "
                    f"tag is suggested: image {host}/f/below:1.2: 404 Not Found from {host} "
                    "(MANIFEST_UNKNOWN: gone): manifest 1.2 not found; is the name right? (a private "
                    "repository may also answer 404 without credentials)",
                ),
            ),
        }
        images = {name: layout(server, name, unread) for name, (unread, _) in cases.items()}
        looking = inspector(tmp_path)
        for name, (_, expected) in cases.items():
            assert search_one(looking, images[name], [arm64], limit=8) == expected, name
        # A registry that stalls on the candidates (the newest first): the stalled host is not
        # asked again, and the note names the first tag, why, and the others not read.
        slow = layout(server, "f/slow", {"1.7": Answer(stall=5)})
        stalled = Inspector(Client(Options(timeout=1.0, retries=0)), Cache(str(tmp_path / "stall")))
        found, note = search_one(stalled, slow, [arm64], limit=8)
        assert (found, note) == (
            {},
            f"image {slow}: the search for a newer tag with linux/arm64 is incomplete, no tag is suggested: "
            f"image {host}/f/slow:1.7: cannot reach {host}: no complete answer within 1s (see "
            "--request-timeout) (nor could 1.1, 1.2, 1.4)",
        )
