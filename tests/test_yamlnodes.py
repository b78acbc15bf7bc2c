"""Reading nodes as kubectl does: aliases, merge keys, YAML 1.1 types, bounded expansion; and
writing data back so that every reader takes it for what it was."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubectl_arch.manifest import yamledit
from kubectl_arch.manifest import yamlnodes as yn


def read(text: str) -> Any:
    return yn.compose(text, 0, len(text)).root


def data(text: str, typed: bool | str = False) -> Any:
    return yn.to_data(read(text), typed=typed)


def test_merge_keys_apply_in_document_order() -> None:
    base = "x: &b {name: relay, image: a, args: [x]}\n"
    # keys written after a merge win; a merge sets the keys it brings over keys set before it
    assert data(base + "y: {<<: *b, image: c}\n")["y"] == {"name": "relay", "image": "c", "args": ["x"]}
    assert data(base + "y: {image: c, <<: *b}\n")["y"] == {"image": "a", "name": "relay", "args": ["x"]}
    # of a list of mappings, the first wins
    two = "p: &p {a: 1, b: 1}\nq: &q {b: 2, c: 2}\nr: {<<: [*p, *q]}\n"
    assert data(two)["r"] == {"a": "1", "b": "1", "c": "2"}
    assert yaml.safe_load(two)["r"] == {"a": 1, "b": 1, "c": 2}  # PyYAML agrees
    found = yn.find(read(base + "y:\n  <<: *b\n  image: c\n").value[1][1], "name")
    assert found is not None and found.merge is not None and yn.text(found.value) == "relay"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: {<<: 1}\n", "a merge key (<<) must name a mapping or a list of mappings"),
        ("a: {b: 1, b: 2}\n", "duplicate key 'b'"),
        ("a: &a [*a]\n", None),  # an alias to the node it is in: read as undefined or recursive
        ("? [x]\n: y\n", "mapping keys must be strings (a complex key: ? ...)"),
    ],
)
def test_what_kubectl_refuses_is_a_shape_error(text: str, message: str | None) -> None:
    with pytest.raises((yn.YamlShapeError, yn.YamlSyntaxError)) as caught:
        data(text)
    if message is not None:
        assert str(caught.value) == message


def test_alias_bombs_are_bounded_without_expanding() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    root = read("\n".join(lines) + "\n")
    with pytest.raises(yn.YamlShapeError, match="excessive aliasing"):
        yn.check_aliasing(root)  # counted, not expanded: 10**30 nodes
    with pytest.raises(yn.YamlShapeError, match="alias bomb"):
        yn.to_data(root)


def _aliased_list(items: int, keys: int) -> str:
    head = "items:\n- spec: &spec\n" + "".join(f"    k{i}: v{i}\n" for i in range(keys))
    return head + "".join(f"- {{name: d{i}, spec: *spec}}\n" for i in range(1, items))


@pytest.mark.parametrize(
    ("items", "keys", "refused"),
    [
        (6000, 12, False),  # about 150,000 nodes, 95% through aliases: under 400,000 any share to 99%
        (20_000, 30, True),  # 1.34 million decoded, 91% through aliases where 76% are allowed
        (20_000, 3, False),  # 260,000 decoded, 78% through aliases
        (3000, 400, True),  # 2.4 million decoded, 99.6% through aliases
        (500, 10, False),
    ],
)
def test_aliases_are_bounded_as_go_yaml_bounds_them(items: int, keys: int, refused: bool) -> None:
    root = read(_aliased_list(items, keys))
    # What go-yaml's decoder counts: per item the item mapping, 2 keys, a name, the alias node
    # and the spec mapping with its keys and values through it.
    per_alias = 1 + 2 * keys
    decoded = 2 + 1 + 2 + 1 + per_alias + (items - 1) * (1 + 4 + 1 + per_alias)
    aliased = (items - 1) * per_alias
    expected = aliased > 100 and aliased / decoded > yn.allowed_alias_ratio(decoded)
    assert expected == refused
    if expected:
        with pytest.raises(yn.YamlShapeError, match="excessive aliasing"):
            yn.check_aliasing(root)
    else:
        yn.check_aliasing(root)


def test_the_allowed_alias_share_falls_as_go_yaml_has_it() -> None:
    assert yn.allowed_alias_ratio(1000) == 0.99
    assert yn.allowed_alias_ratio(400_000) == 0.99
    assert yn.allowed_alias_ratio(2_200_000) == pytest.approx(0.545)
    assert yn.allowed_alias_ratio(4_000_000) == 0.10
    assert yn.allowed_alias_ratio(40_000_000) == 0.10


def test_written_anew_every_value_keeps_its_type() -> None:
    text = "a: {on: yes, port: 8080, mode: 0644, f: 1e3, t: 2024-01-02, n: ~, s: \"8080\", q: 'on'}\n"
    rendered = yamledit.block_lines(data(text, typed=yn.RENDER), 0, yamledit.Style())
    again = "\n".join(rendered) + "\n"
    assert yaml.safe_load(again) == yaml.safe_load(text)  # YAML 1.1, as the API server reads
    flow = "a: " + yamledit.flow(data(text, typed=yn.RENDER)["a"], None, yamledit.Style()) + "\n"
    assert yaml.safe_load(flow) == yaml.safe_load(text)


@pytest.mark.parametrize("value", [1.5, 1e20, -2.5e-7, float("inf"), float("-inf"), 0.0])
def test_floats_read_back_as_floats(value: float) -> None:
    assert yaml.safe_load(yamledit.scalar(value)) == value
    assert yn.resolve_plain(yamledit.scalar(value)) == yn.FLOAT_TAG
