from __future__ import annotations

from kubectl_arch.manifest.yamltext import (
    Span,
    has_content,
    sniff_document,
    sniff_item,
    split_documents,
    split_items,
    top_level_keys,
)


def pieces(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_documents(text)]


def test_documents_cover_the_text_exactly() -> None:
    text = "# head\n---\na: 1\n--- # two\nb: 2\n...\n%YAML 1.1\n---\nc: 3\n"
    parts = pieces(text)
    assert "".join(parts) == text
    assert parts == ["# head\n", "---\na: 1\n", "--- # two\nb: 2\n...\n", "%YAML 1.1\n---\nc: 3\n"]
    spans = split_documents(text)
    assert [has_content(text, s) for s in spans] == [False, True, True, True]


def test_markers_must_be_at_column_zero_and_alone() -> None:
    text = "a: |\n  ---\n  text\nb: '---x'\n----\n"
    assert pieces(text) == [text]


def test_sniff_plain_block_documents() -> None:
    text = "apiVersion: apps/v1 # c\nkind: 'Deployment'\nmetadata:\n  kind: nested\n"
    assert sniff_document(text, Span(0, len(text))) == ("apps/v1", "Deployment")


def test_sniff_is_unsure_rather_than_wrong() -> None:
    for text in [
        "{apiVersion: v1, kind: Pod}\n",
        "kind: Pod\nkind: Service\n",
        "kind: &k Pod\n",
        "--- {kind: Pod}\n",
        "kind: !!str Pod\n",
    ]:
        assert sniff_document(text, Span(0, len(text))) is None, text
    text = "kind: Pod\n"
    assert sniff_document(text, Span(0, len(text))) == (None, "Pod")


def test_items_of_a_list_document() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n"
        "# between\n"
        "-   kind: Service\n    apiVersion: v1\n"
        "- # kpt moves the first comment here\n  apiVersion: apps/v1\n  kind: Deployment\n"
        "metadata:\n  name: list\n"
    )
    span = Span(0, len(text))
    items = split_items(text, span)
    assert items is not None
    assert [text[i.span.start : i.span.end].splitlines()[0] for i in items] == [
        "- apiVersion: v1",
        "-   kind: Service",
        "- # kpt moves the first comment here",
    ]
    assert [sniff_item(text, i) for i in items] == [
        ("v1", "Pod"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
    ]
    assert text[items[-1].span.end :] == "metadata:\n  name: list\n"


def test_items_indented_and_empty_and_flow() -> None:
    text = "kind: List\nitems:\n  - kind: Pod\n    apiVersion: v1\nx: 1\n"
    items = split_items(text, Span(0, len(text)))
    assert items is not None and len(items) == 1 and items[0].dash == 2
    assert split_items("kind: List\nitems: []\n", Span(0, 22)) == []
    assert split_items("kind: List\n", Span(0, 11)) == []
    text = "kind: List\nitems: [{kind: Pod}]\n"
    assert split_items(text, Span(0, len(text))) is None


def test_top_level_sections() -> None:
    text = "apiVersion: v1\nkind: ResourceList\nitems:\n- a: 1\nfunctionConfig:\n  data: {}\nresults: []\n"
    sections = top_level_keys(text, Span(0, len(text)))
    assert sections is not None
    assert text[sections["functionConfig"].start : sections["functionConfig"].end] == (
        "functionConfig:\n  data: {}\n"
    )
    assert text[sections["results"].start : sections["results"].end] == "results: []\n"


# -- the scanner against the parser ---------------------------------------------------------------
# Whatever the scanner says of a document or a List item (its apiVersion and kind), the parser
# must say the same; where they could differ the scanner must be unsure (None), never wrong.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kubectl_arch.manifest import yamlnodes as yn  # noqa: E402

_BODY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: 1\n"
_ODD = ["\ufeff", "\u200b", "\r", "\x85", "\u2028", "\u2029", "\t", " ", "\r\n", "#", "&a ", "!!str ", '"', "'",
        "? ", "<<: {kind: Pod}\n", "%YAML 1.1\n", "--- ", "...\n", "{", "}", "[", ",", "  ", "\n", "kind: ConfigMap\n",
        "kind:", "Pod", "  kind: Job\n", "x: {a: 1,\n", "x: 'a\n", "x: \"a\n", "- "]  # fmt: skip


def _parsed_kind(text: str, span: Span, item: bool = False) -> tuple[str | None, str | None] | str:
    """(apiVersion, kind) as the parser reads them; "error" for invalid YAML or a non-mapping."""
    try:
        root = yn.compose(text, span.start, span.end, full=True).root
        if item:
            root = yn.deref(root).value[0] if root is not None and yn.is_sequence(root) else None
        if root is None or not yn.is_mapping(root):
            return "error"

        def scalar(key: str) -> str | None:
            found = yn.find(root, key)
            return yn.text(found.value) if found is not None and yn.is_scalar(found.value) else None

        return scalar("apiVersion"), scalar("kind")  # type: ignore[return-value]
    except (yn.YamlSyntaxError, yn.YamlShapeError):
        return "error"


def _check_document(text: str) -> None:
    for span in split_documents(text):
        if not has_content(text, span):
            continue
        sniffed = sniff_document(text, span)
        if sniffed is None:
            continue
        parsed = _parsed_kind(text, span)
        if parsed == "error":
            continue  # invalid YAML: reported when read, and the scanner never reads it
        assert parsed[1] == sniffed[1], (text, span)  # the kind, for sure
        assert sniffed[0] in (None, parsed[0]), (text, span)  # the apiVersion, or unsure (None)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, len(_BODY)), st.sampled_from(_ODD)), max_size=3))
def test_scanner_agrees_with_the_parser_on_documents(inserts: list[tuple[int, str]]) -> None:
    body = _BODY
    for at, piece in sorted(inserts, reverse=True):
        body = body[:at] + piece + body[at:]
    _check_document("apiVersion: v1\nkind: ConfigMap\n---\n" + body)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, len(_BODY)), st.sampled_from(_ODD)), max_size=3))
def test_scanner_agrees_with_the_parser_on_list_items(inserts: list[tuple[int, str]]) -> None:
    item = _BODY
    for at, piece in sorted(inserts, reverse=True):
        item = item[:at] + piece + item[at:]
    lines = item.split("\n")
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- "
        + "\n  ".join(lines)
        + "\n- kind: Service\n  apiVersion: v1\n"
    )
    span = Span(0, len(text))
    if sniff_document(text, span) is None:
        return
    items = split_items(text, span)
    if not items:
        return
    for found in items:
        sniffed = sniff_item(text, found)
        if sniffed is None:
            continue
        parsed = _parsed_kind(text, found.span, item=True)
        if parsed == "error":
            continue
        assert parsed[1] == sniffed[1], (text, found)
        assert sniffed[0] in (None, parsed[0]), (text, found)


def test_what_the_scanner_must_not_trust() -> None:
    # Each would have the scanner name another kind than the parser reads, or none at all.
    for text in [
        "apiVersion: v1\n\ufeffkind: Deployment\n",  # a byte order mark inside: part of the key
        "\ufeffapiVersion: apps/v1\nkind: Deployment\n",
        "apiVersion: v1\rkind: ConfigMap\rx: 1\r",  # lone CR line breaks
        "apiVersion: v1\nkind: ConfigMap\u2028metadata: {}\n",
        'x: {a: 1,\nkind: ConfigMap}\n"kind": Deployment\n',  # kind: inside a multi-line flow mapping
        'x: "a\nkind: ConfigMap"\n"kind": Deployment\n',  # inside a multi-line quoted scalar
        "<<: {kind: Deployment}\nkind: ConfigMap\n",  # hmm: a key after the merge wins, but be unsure
        "kind: Config\n  Map\n",  # a multi-line plain scalar
        "\tkind: ConfigMap\n",
        "  kind: ConfigMap\n",
        "kind: Deploy\u200bment\n",
    ]:
        assert sniff_document(text, Span(0, len(text))) is None, repr(text)


def test_a_byte_order_mark_that_starts_a_later_document_is_dropped_as_kubectl_does() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\n---\n\ufeffapiVersion: apps/v1\nkind: Deployment\n"
    spans = split_documents(text)
    assert sniff_document(text, spans[1]) is None
    assert _parsed_kind(text, spans[1]) == ("apps/v1", "Deployment")
    parsed = yn.compose(text, spans[1].start, spans[1].end)
    key = yn.find(parsed.root, "kind").key
    assert text[key.start : key.end] == "kind"  # positions still index the whole text


# Items whose quoted scalars or flow collections go on over lines that look like items ("- ")
# or keys at the items' column: the splitter must leave such a List to the parser.
_DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
_TRAPS = ["- still the same text", "- apiVersion: v1", "-", "- ", "  kind: Deployment", "kind: Pod", "x", ""]


@st.composite
def _list_items(draw: st.DrawFn) -> tuple[str, int]:
    """A List (text) with the items' dash column; some items hold a multi-line quoted scalar or
    flow collection whose inner lines start at the dash column."""
    dash = draw(st.sampled_from([0, 2]))
    pad, inner = " " * dash, " " * (dash + 2)
    out = "apiVersion: v1\nkind: List\nitems:\n"
    for _ in range(draw(st.integers(1, 4))):
        body = (
            _DEPLOYMENT if draw(st.booleans()) else "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        )
        lines = body.rstrip("\n").split("\n")
        out += pad + "- " + ("\n" + inner).join(lines) + "\n"
        if draw(st.booleans()):
            quote = draw(st.sampled_from(['"', "'"]))
            trap = draw(st.lists(st.sampled_from(_TRAPS), min_size=1, max_size=3))
            value = quote + "first line\n" + "\n".join(pad + t for t in trap) + "\n" + inner + "end" + quote
            form = draw(
                st.sampled_from(
                    ["{key}: {value}", "{key}: {{note: {value}, other: x}}", "{key}: [a, {value}]"]
                )
            )
            out += inner + form.format(key="notes", value=value) + "\n"
        if draw(st.booleans()):  # one-line nodes, and a block scalar whose lines look like items
            trap = draw(st.lists(st.sampled_from(_TRAPS), min_size=1, max_size=3))
            out += inner + 'args: ["a, b", \'c]\', {d: "e"}]\n' + inner + "script: |\n"
            out += "".join(inner + "  " + t + "\n" for t in trap)
    return out, dash


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_list_items())
def test_items_split_by_text_are_the_parsers_items(case: tuple[str, int]) -> None:
    text, _ = case
    span = Span(0, len(text))
    try:
        parsed = yn.to_data(yn.compose(text, 0, len(text), full=True).root)
    except (yn.YamlSyntaxError, yn.YamlShapeError):
        return  # not valid YAML: the parser says so, whatever the splitter does
    items = split_items(text, span)
    if items is None:
        return  # unsure: the parser reads the List
    assert len(items) == len(parsed["items"]), text
    for item, expected in zip(items, parsed["items"], strict=True):
        read = yn.to_data(yn.compose(text, item.span.start, item.span.end, full=True).root)
        assert read == [expected], text


def test_multi_line_scalars_and_flow_collections_make_the_splitter_unsure() -> None:
    for middle in [
        '    text: "first line\n- still the same scalar\n  end"\n',
        "    text: 'first line\n- still the same scalar\n  end'\n",
        "    note: {a: 'x\n- y', b: z}\n",
        '    args: [a, "x\n- y"]\n',
        "    args: [a,\n    b]\n",
        '    "quoted key": "x\n  kind: Pod"\n',
        "    ? complex\n    : key\n",
    ]:
        text = (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n"
            + middle
            + "- apiVersion: v1\n  kind: Service\n"
        )
        assert split_items(text, Span(0, len(text))) is None, text
    # Block scalars and one-line quoted or flow nodes are plain block style: split by text.
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n"
        '    script: |\n      echo "unclosed [\n      - text of the scalar\n'
        "    plain: it's [not a flow {\n    one: \"a\" # \"\n    flow: {a: [1, 2], b: 'c'}\n"
        "- apiVersion: v1\n  kind: Service\n"
    )
    items = split_items(text, Span(0, len(text)))
    assert items is not None
    assert [text[i.span.start : i.span.end].split("\n")[1] for i in items] == [
        "  kind: ConfigMap",
        "  kind: Service",
    ]


_LINE_CHARS = st.sampled_from(
    [
        " ",
        " ",
        "-",
        ":",
        '"',
        "'",
        "[",
        "]",
        "{",
        "}",
        ",",
        "#",
        "a",
        "b",
        "|",
        ">",
        "&",
        "!",
        "?",
        "\\",
        "\t",
    ]
)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_LINE_CHARS, max_size=14).map("".join))
def test_line_patterns_agree_with_the_line_scanner(line: str) -> None:
    """The fast paths of :func:`spans_lines` (patterns) say of a line what the scanner says."""
    import re

    from kubectl_arch.manifest import yamltext

    layout, column = yamltext._line_layout(line)
    if re.fullmatch(yamltext._ONE_LINE_NODES, line):
        assert layout == yamltext._ONE_LINE, line
    header = re.fullmatch(yamltext._BLOCK_HEADER, line)
    if header is not None:
        assert (layout, column) == (yamltext._BLOCK_SCALAR, yamltext._holder(header)), line
