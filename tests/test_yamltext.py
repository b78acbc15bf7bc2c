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
