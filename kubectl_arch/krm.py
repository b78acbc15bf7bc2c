"""``pin`` as a KRM function: a ResourceList (config.kubernetes.io/v1) in, one out.

Items are edited in place as text, like any YAML stream, so every annotation kpt and
Kustomize use to restore files and comments (``config.kubernetes.io/*``,
``internal.config.kubernetes.io/*``, ``kustomize.config.k8s.io/id``) is kept byte for byte.
Options come from ``functionConfig``; findings go to ``results``; any error result makes
the exit code non-zero, and then the items are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import config, pin
from .errors import InputError, RemoteError
from .manifest import scan as scanning
from .manifest import yamlnodes as yn
from .manifest import yamltext
from .manifest.workloads import Kinds

VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1alpha1")
SOURCE = "ResourceList"


def resource_list_span(text: str) -> yamltext.Span | None:
    """The document span when ``text`` is a ResourceList laid out in block style."""
    spans = [s for s in yamltext.split_documents(text) if yamltext.has_content(text, s)]
    if len(spans) != 1:
        return None
    sniffed = yamltext.sniff_document(text, spans[0])
    if sniffed is None:
        return None
    if sniffed[1] != "ResourceList" or sniffed[0] not in VERSIONS:
        return None
    return spans[0]


def resource_list(source: Any) -> tuple[Any, yamltext.Span] | None:
    """The ResourceList a function reads from stdin (``source``, a :class:`~.manifest.files.Source`)
    and its document span, or None when the input is no ResourceList. A ResourceList in JSON
    or YAML flow style (kustomize and kpt may send JSON) is read fully and written in block
    style first, which the answer keeps; the answer is UTF-8 whatever the input's encoding."""
    text = source.text
    source = source._replace(encoding="utf-8", bom=False)
    span = resource_list_span(text)
    if span is not None:
        return source, span
    spans = [s for s in yamltext.split_documents(text) if yamltext.has_content(text, s)]
    if len(spans) != 1 or "ResourceList" not in text[:65536] or not yamltext.starts_json(text, spans[0]):
        return None
    from .manifest.yamledit import Style, block_lines

    try:
        root = yn.compose(text, spans[0].start, spans[0].end, full=True).root
        data = yn.to_data(root, typed=yn.RENDER) if root is not None and yn.is_mapping(root) else None
    except (yn.YamlSyntaxError, yn.YamlShapeError, RecursionError):
        return None  # read again as a stream, whose errors name the place
    if (
        not isinstance(data, dict)
        or data.get("kind") != "ResourceList"
        or data.get("apiVersion") not in VERSIONS
    ):
        return None
    block = "".join(line + "\n" for line in block_lines(data, 0, Style()))
    span = resource_list_span(block)
    return (source._replace(text=block), span) if span is not None else None


def top_level_keys(text: str, span: yamltext.Span) -> dict[str, yamltext.Span] | None:
    """The spans of the ResourceList's top-level keys (key line to the next key line): found
    by the text scanner, or, where it is unsure (a quoted scalar over lines whose lines look
    like keys), from the parsed document's keys. None when the document is no block mapping."""
    sections = yamltext.top_level_keys(text, span)
    if sections is not None:
        return sections
    try:
        root = yn.deref(yn.compose(text, span.start, span.end).root)
    except (yn.YamlSyntaxError, yn.YamlShapeError):
        return None
    if not yn.is_mapping(root) or root.flow:
        return None
    starts: list[tuple[str, int]] = []
    for key, _ in root.value:
        if not yn.is_scalar(key) or key.style in ("|", ">"):
            return None
        starts.append((yn.text(key), max(text.rfind("\n", span.start, key.start) + 1, span.start)))
    out: dict[str, yamltext.Span] = {}
    for i, (name, start) in enumerate(starts):
        if name in out:
            return None
        out[name] = yamltext.Span(start, starts[i + 1][1] if i + 1 < len(starts) else span.end)
    return out


def _function_config(text: str, sections: Mapping[str, yamltext.Span]) -> Any:
    span = sections.get("functionConfig")
    if span is None:
        return None
    try:
        data = config.typed_data(text, span.start, span.end)
    except yn.YamlSyntaxError as exc:
        raise InputError(
            f"ResourceList functionConfig: invalid YAML at line {exc.line}, "
            f"column {exc.column}: {exc.problem}"
        ) from None
    except yn.YamlShapeError as exc:
        raise InputError(f"ResourceList functionConfig: {exc}") from None
    return data.get("functionConfig") if isinstance(data, dict) else None


def function_config(text: str, span: yamltext.Span) -> Any:
    """The ``functionConfig`` object of the ResourceList at ``span`` (None when absent)."""
    sections = top_level_keys(text, span)
    return _function_config(text, sections) if sections is not None else None


def result(finding: scanning.Finding) -> dict[str, Any]:
    """A finding as a KRM function result."""
    out: dict[str, Any] = {"message": finding.message, "severity": finding.severity}
    location = finding.location
    if location is not None and location.kind:
        ref = {"apiVersion": location.api_version, "kind": location.kind, "name": location.name}
        if location.namespace:
            ref["namespace"] = location.namespace
        out["resourceRef"] = ref
    if finding.field:
        out["field"] = {"path": finding.field}
    if location is not None and location.file_path:
        out["file"] = {"path": location.file_path}
        if location.file_index is not None:
            out["file"]["index"] = location.file_index
    return out


def with_results(text: str, span: yamltext.Span, results: list[dict[str, Any]]) -> str:
    sections = top_level_keys(text, span) or {}
    old = sections.get("results")
    if old is not None:
        text = text[: old.start] + text[old.end :]
    if not results:
        return text
    from .manifest import yamledit

    newline = "\r\n" if "\r\n" in text[:4096] else "\n"
    lines = yamledit.block_lines({"results": results}, 0, yamledit.Style(2, 0, newline))
    if text and not text.endswith("\n"):
        text += newline
    return text + "".join(line + newline for line in lines)


def process(
    text: str,
    span: yamltext.Span,
    flags: config.PinSettings,
    resolve: Callable[[config.PinSettings, Iterable[scanning.Scan]], Any],
    placement_for: Callable[[config.PinSettings], pin.Placement] | None = None,
) -> tuple[str, list[scanning.Finding]]:
    """Pin the items of a ResourceList; returns the output ResourceList and the findings.

    ``resolve`` decides which platforms the images support (a :class:`..resolve.Resolution`);
    ``placement_for`` gives the bounds and taints the settings call for (reading the cluster
    when they say so).
    """
    sections = top_level_keys(text, span)
    if sections is None or ("items" not in sections and "functionConfig" not in sections):
        raise InputError("ResourceList: no items")
    # Messages name options as the functionConfig spells them (flags given keep their names).
    spelling = config.Spelling({})
    try:
        function_config = _function_config(text, sections)
        spelling = config.Spelling.of(function_config, flags)
        settings = config.from_object(function_config, "ResourceList functionConfig")
        settings = settings.overridden_by(flags)
        kinds = Kinds.parse(settings.pod_template_paths)
        from . import resolve as resolving

        read = scanning.scan if resolving.needs_images(settings) else scanning.lazy
        found = read(text, SOURCE, kinds)
        resolution = resolve(settings, [found])
        placement = placement_for(settings) if placement_for is not None else pin.Placement()
    except (InputError, RemoteError) as exc:
        # A function reports even a bad configuration in its output ResourceList, whose
        # items pass through unchanged, so that orchestrators show it with the results.
        finding = scanning.Finding("error", spelling(str(exc)), exit_code=exc.exit_code)
        return with_results(text, span, [result(finding)]), [finding]
    if resolution.failed:
        findings = [f._replace(message=spelling(f.message)) for f in (*found.findings, *resolution.findings)]
        return with_results(text, span, [result(f) for f in findings]), findings
    outcome = pin.pin(
        found,
        resolution.supported,
        bounds=(*resolution.bounds, *placement.bounds),
        unknown=resolution.unknown,
        rewrites=resolution.rewrites,
        taints=placement.taints,
    )
    notes = [scanning.Finding("warning", w) for w in placement.warnings]
    findings = [*resolution.findings, *notes, *outcome.findings]
    if not outcome.workloads and not any(f.severity == "error" or f.unchecked for f in findings):
        findings.append(scanning.Finding("warning", scanning.no_workloads([SOURCE], "pin")))
    failed = any(f.severity == "error" for f in findings)
    if not failed and settings.lock:
        from . import lock
        from .errors import Error

        try:
            lock.write(settings.lock, resolution.answers)
        except Error as exc:
            finding = scanning.Finding("error", str(exc), exit_code=exc.exit_code)
            findings.append(finding)
            failed = True
    findings = [f._replace(message=spelling(f.message)) for f in findings]
    out = text if failed else outcome.text
    out_span = yamltext.Span(span.start, span.end + len(out) - len(text))
    return with_results(out, out_span, [result(f) for f in findings]), findings
