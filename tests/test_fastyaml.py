"""The fast reader agrees with the full reader (ruamel.yaml's parser) node for node, position for
position, or declines."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_util import CORPUS, needs_corpus
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_splice_shared import manifests as shared_manifests
from yamldiff import differences, full_compose, readers

from kubectl_arch.manifest import fastyaml, fullyaml, yamltext
from kubectl_arch.manifest import yamlnodes as yn

ROOT = Path(__file__).resolve().parents[1]


def yaml_documents(top: Path) -> list[tuple[str, str]]:
    docs = []
    for path in sorted(top.rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        for span in yamltext.split_documents(text):
            if yamltext.has_content(text, span):
                docs.append((f"{path.name}@{span.start}", text[span.start : span.end]))
    return docs


def check_agrees(text: str) -> bool:
    """Fast reader result equals ruamel's; returns False when the fast reader declined."""
    try:
        fast = fastyaml.parse(text, 0, len(text))
    except fastyaml.Unsupported:
        return False
    for reader in readers():
        full = full_compose(text, reader)  # must not raise: the fast reader accepts only valid YAML
        # where a value written as nothing is placed, ruamel.yaml's parser says (libyaml differs)
        assert differences(fast, full, empty_positions=reader == fullyaml.RUAMEL) == [], reader
    return True


@needs_corpus
def test_corpus_documents_read_identically() -> None:
    docs = yaml_documents(CORPUS)
    assert len(docs) > 150
    read = sum(check_agrees(text) for _, text in docs)
    # Nearly every real manifest is in the subset; the rest goes to ruamel.yaml.
    assert read >= len(docs) - 5


def test_testdata_documents_read_identically() -> None:
    # The repository's own manifests, with or without the corpus beside it.
    docs = yaml_documents(ROOT / "testdata") + yaml_documents(ROOT / "bench" / "data")
    assert len(docs) >= 9
    read = sum(check_agrees(text) for _, text in docs)  # each one read agrees with ruamel.yaml
    assert read >= len(docs) - 2


def test_positions_index_the_whole_text() -> None:
    text = "---\na: 1\n---\nb:\n  - c\n"
    spans = yamltext.split_documents(text)
    for read in (fastyaml.parse, fullyaml.compose):
        node = read(text, spans[1].start, spans[1].end)
        assert node is not None
        assert node.start == spans[1].start + 4  # after "---\n"
        item = node.value[0][1].value[0]
        assert text[item.start : item.end] == "c"


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? complex\n: value\n",
        "a: [1,\n  2]\n",
        "a: 'multi\n  line'\n",
        'a: "double\n  quoted"\n',
        "a: x # comment\n  continued\n",
        "%YAML 1.1\n---\na: 1\n",
        "a:\n\t- b\n",
        "- - nested\n",
        "a: {b: }\n",
        "a: b: c\n",
        '{"json": true}\n',
        "--- |\n  text\n",
    ],
)
def test_declines_what_it_does_not_read(text: str) -> None:
    with pytest.raises(fastyaml.Unsupported):
        fastyaml.parse(text, 0, len(text))


def test_plain_scalars_fold_over_lines() -> None:
    text = "a: one\n  two\n\n  three # end\nb:\n- x\n  y\n"
    node = fastyaml.parse(text, 0, len(text))
    assert all(
        differences(node, full_compose(text, r), empty_positions=r == fullyaml.RUAMEL) == []
        for r in readers()
    )
    assert yn.to_data(node) == {"a": "one two\nthree", "b": ["x y"]}


def test_block_scalar_value_needs_the_full_parser() -> None:
    text = "a: |\n  line one\n  line two\nb: 2\n"
    node = fastyaml.parse(text, 0, len(text))
    assert node is not None
    block = node.value[0][1]
    with pytest.raises(fastyaml.NeedFullParse):
        str(block.value)
    with pytest.raises(fastyaml.NeedFullParse):
        yn.to_data(node)
    assert all(
        differences(node, full_compose(text, r), empty_positions=r == fullyaml.RUAMEL) == []
        for r in readers()
    )
    assert yn.to_data(yn.compose(text, 0, len(text), full=True).root)["a"] == "line one\nline two\n"


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("yes", yn.BOOL_TAG),
        ("On", yn.BOOL_TAG),
        ("y", yn.BOOL_TAG),
        ("0644", yn.INT_TAG),
        ("0x1F", yn.INT_TAG),
        ("1.5", yn.FLOAT_TAG),
        ("1e3", yn.FLOAT_TAG),
        (".inf", yn.FLOAT_TAG),
        ("~", yn.NULL_TAG),
        ("", yn.NULL_TAG),
        ("2024-01-02", yn.TIMESTAMP_TAG),
        ("nginx:1.27", yn.STR_TAG),
        ("386", yn.INT_TAG),
        ("amd64", yn.STR_TAG),
        ("1.2.3", yn.STR_TAG),
    ],
)
def test_plain_scalars_resolve_like_yaml_1_1(value: str, tag: str) -> None:
    assert yn.resolve_plain(value) == tag


# -- generated documents -------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "a", "name", "image", "nginx:1.27", "on", "yes", "0644", "1.5", "~", "null", "true", "x y",
        "a#b", "a #b", "-x", "x-", "http://h/p", "a:b", "key: v", "it's", 'say "hi"', "", " lead",
        "trail ", "kubernetes.io/arch", "one two three", "a - b", "x: y z", "p #q r", "@x", "%x", "`x`", "[x]", "{x}", "x,y", "é", "\\", "!t", "*a", "&a",
    ]
)  # fmt: skip
KEYS = st.sampled_from(["a", "b", "name", "spec", "kubernetes.io/os", "x y", "on", "1", "k-e_y.z"])
trees = st.recursive(
    WORDS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=0, max_size=4),
        st.dictionaries(KEYS, inner, min_size=0, max_size=4),
    ),
    max_leaves=20,
)


class Emitter:
    """Writes trees as YAML in randomly chosen (not always valid) styles."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.indent = draw(st.sampled_from([2, 4]))
        self.seq_offset = draw(st.sampled_from([0, 2]))

    def scalar(self, value: str) -> str:
        style = self.draw(st.sampled_from(["plain", "plain", "single", "double"]))
        if style == "single":
            return "'" + value.replace("'", "''") + "'"
        if style == "double":
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return value

    def comment(self) -> str:
        return self.draw(st.sampled_from(["", "", "", "  # note", " #c"]))

    def flow(self, value: object) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.scalar(k)}: {self.flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(str(value))

    def block(self, value: object, column: int) -> list[str]:
        pad = " " * column
        lines: list[str] = []
        if self.draw(st.booleans()) and self.draw(st.booleans()):
            lines.append(pad + "# comment line")
        if isinstance(value, dict):
            for key, item in value.items():
                head = f"{pad}{self.scalar(key)}:"
                if isinstance(item, dict | list) and item and self.draw(st.booleans()):
                    lines.append(head + self.comment())
                    inner = column + (self.indent if isinstance(item, dict) else self.seq_offset)
                    lines.extend(self.block(item, inner))
                elif isinstance(item, str) and item and self.draw(st.integers(0, 5)) == 0:
                    lines.append(head + " |")
                    lines.extend(" " * (column + self.indent) + part for part in item.split(" "))
                elif isinstance(item, str) and " " in item.strip() and self.draw(st.integers(0, 3)) == 0:
                    first, *rest = item.strip().split(" ")
                    lines.append(f"{head} {first}")  # a plain scalar folded over several lines
                    for part in rest:
                        if self.draw(st.booleans()):
                            lines.append("")
                        lines.append(" " * (column + self.indent) + part + self.comment())
                else:
                    lines.append(f"{head} {self.flow(item)}{self.comment()}")
            return lines or [pad + "{}"]
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict | list) and item and self.draw(st.booleans()):
                    inner = self.block(item, column + 2)
                    first = inner[0][column + 2 :] if inner[0].startswith(" " * (column + 2)) else None
                    if first is None or first.startswith("#"):
                        lines.append(pad + "-" + self.comment())
                        lines.extend(inner)
                    else:
                        lines.append(f"{pad}- {first}")
                        lines.extend(inner[1:])
                else:
                    lines.append(f"{pad}- {self.flow(item)}{self.comment()}")
            return lines or [pad + "[]"]
        return [pad + self.flow(value)]


@st.composite
def documents(draw: st.DrawFn) -> str:
    tree = draw(st.dictionaries(KEYS, trees, min_size=1, max_size=5))
    emitter = Emitter(draw)
    lines = emitter.block(tree, 0)
    if draw(st.booleans()):
        lines.insert(0, "---" + draw(st.sampled_from(["", " # doc"])))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = newline.join(lines)
    return text + (newline if draw(st.booleans()) else "")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_identically_or_decline(text: str) -> None:
    try:
        fast = fastyaml.parse(text, 0, len(text))
    except fastyaml.Unsupported:
        return
    for reader in readers():
        try:
            full = full_compose(text, reader)
        except Exception as exc:
            raise AssertionError(f"fast reader accepted invalid YAML ({reader}: {exc}):\n{text}") from exc
        assume(full is not None)
        assert differences(fast, full, empty_positions=reader == fullyaml.RUAMEL) == [], (reader, text)


# -- the full reader's two parsers -----------------------------------------------------------


@pytest.mark.skipif(len(readers()) < 2, reason="PyYAML's C extension (libyaml) is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), shared_manifests().map(lambda m: m[0])))
def test_libyaml_and_ruamel_read_the_same_nodes(text: str) -> None:
    # Not tags: the parsers differ on odd tag syntax ("[!t, a]"); kubectl reads as libyaml does.
    assume("!" not in text)
    try:
        ruamel = full_compose(text, fullyaml.RUAMEL)
    except yn.YamlSyntaxError:
        return  # ruamel refuses some things libyaml reads (tabs as separating space)
    assert differences(full_compose(text, fullyaml.LIBYAML), ruamel, empty_positions=False) == [], text


@pytest.mark.parametrize("reader", readers())
def test_the_full_reader_keeps_aliases_and_anchors(reader: str) -> None:
    text = "a: &x [1, {b: &y c}]\nd: *x\ne: !!str *y\n"  # an alias with a tag is invalid
    with pytest.raises(yn.YamlSyntaxError):
        full_compose(text, reader)
    text = "a: &x [1, {b: &y c}]\nd: *x\ne: *y\nf: &x redefined\ng: *x\n"
    root = full_compose(text, reader)
    pairs = {k.value: v for k, v in root.value}
    assert pairs["d"].kind == "alias" and pairs["d"].value is pairs["a"]
    assert text[pairs["d"].start : pairs["d"].end] == "*x"
    assert pairs["g"].value is pairs["f"]  # an anchor may be defined again
    assert yn.to_data(root) == {"a": ["1", {"b": "c"}], "d": ["1", {"b": "c"}], "e": "c", "f": "redefined",
                                "g": "redefined"}  # fmt: skip
