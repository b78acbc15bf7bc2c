"""Node selector requirements and terms, parsed exactly as kube-scheduler parses them: pure.

The one reader of ``nodeSelectorTerms`` for both :mod:`.fit` (``check``: does a node match)
and :mod:`.affinity` (``pin``: which terms to narrow), so that the two can never disagree
about which terms the scheduler can evaluate.

The rules are those of ``component-helpers/scheduling/corev1/nodeaffinity`` (the helpers the
NodeAffinity filter and the kubelet's admission use) and of apimachinery's
``labels.NewRequirement`` underneath them:

* a requirement's key must be a qualified name (``IsQualifiedName``: an optional DNS-1123
  subdomain prefix and ``/``, then at most 63 alphanumerics with ``-``, ``_`` and ``.``
  inside), each value a valid label value (``IsValidLabelValue``: empty, or at most 63
  such characters);
* ``In`` and ``NotIn`` need at least one value, ``Exists`` and ``DoesNotExist`` take none,
  ``Gt`` and ``Lt`` exactly one integer (``strconv.ParseInt(v, 10, 64)``); any other operator
  is unknown;
* a ``matchFields`` requirement is ``In`` or ``NotIn`` with exactly one value (only
  ``metadata.name`` is a node field);
* a term holding a requirement the helpers cannot parse matches no node (its other
  requirements do not matter), while the other terms still may; a term with neither
  ``matchExpressions`` nor ``matchFields`` matches no node either.

A problem is either a *shape* (a term or requirement that is not a mapping, values that are
not a list: the API server could not even decode the object) or *invalid* (the object
decodes, but the scheduler cannot build a selector from it). Both make a term match nothing;
``pin`` refuses to edit shapes and drops invalid terms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from .shapes import joined, wrong

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
NODE_NAME_FIELD = "metadata.name"
SHAPE, INVALID = "shape", "invalid"

_GO_INT = re.compile(r"[+-]?[0-9]+")
# apimachinery's validation: a qualified name (label key name part), a DNS-1123 subdomain
# (label key prefix) and a label value.
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def label_key_problem(key: str) -> str:
    """Why ``key`` is not a valid label key (apimachinery's ``IsQualifiedName``), or ""."""
    parts = key.split("/")
    if len(parts) > 2:
        return f"key {key!r} is not a qualified name (at most one '/')"
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return f"key {key!r}: prefix {prefix!r} is not a DNS subdomain"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.fullmatch(name):
        return f"key {key!r} is not a valid label key"
    return ""


def label_value_problem(value: str) -> str:
    """Why ``value`` is not a valid label value (apimachinery's ``IsValidLabelValue``), or ""."""
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return f"{value!r} is not a valid label value"
    return ""


def go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: an optional sign and ASCII digits, in int64 range."""
    if not _GO_INT.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def requirement_problem(operator: Any, values: Sequence[str]) -> str:
    """Why the scheduler cannot parse a requirement with this operator and these values
    (``labels.NewRequirement``), or ""."""
    if operator is None:
        return "no operator"
    if operator not in OPERATORS:
        return f"unsupported operator {operator!r}"
    if operator in ("In", "NotIn") and not values:
        return f"{operator} needs values"
    if operator in ("Exists", "DoesNotExist") and values:
        return f"{operator} takes no values"
    if operator in ("Gt", "Lt"):
        if len(values) != 1:
            return f"{operator} needs exactly one value"
        if go_int(values[0]) is None:
            return f"{operator} value {values[0]!r} is not an integer"
    for value in values:
        problem = label_value_problem(value)
        if problem:
            return problem
    return ""


class Requirement(NamedTuple):
    """A parsed ``matchExpressions`` entry (or ``nodeSelector`` entry, as ``In [value]``)."""

    key: str
    operator: str
    values: tuple[str, ...]

    def holds(self, label: str | None) -> bool:
        """Against one node label (``None``: the node has no such label), as
        ``labels.Requirement.Matches`` decides."""
        operator, values = self.operator, self.values
        if operator == "In":
            return label is not None and label in values
        if operator == "NotIn":
            return label is None or label not in values
        if operator == "Exists":
            return label is not None
        if operator == "DoesNotExist":
            return label is None
        if label is None:
            return False
        actual = go_int(label)
        if actual is None:
            return False
        bound = go_int(values[0])
        assert bound is not None  # parsed
        return actual > bound if operator == "Gt" else actual < bound


class FieldRequirement(NamedTuple):
    """A parsed ``matchFields`` entry."""

    key: str
    operator: str  # In or NotIn
    value: str

    def holds(self, name: str) -> bool:
        actual = name if self.key == NODE_NAME_FIELD else ""
        return (actual == self.value) == (self.operator == "In")


class Problem(NamedTuple):
    kind: str  # SHAPE or INVALID
    where: str  # "term 0.matchExpressions[1]"
    why: str

    def __str__(self) -> str:
        return joined(self.where, self.why)


class Term(NamedTuple):
    """A parsed node selector term. With a ``problem`` it matches no node (its requirements
    then hold only those that could be parsed)."""

    expressions: tuple[Requirement, ...]
    fields: tuple[FieldRequirement, ...]
    problem: Problem | None = None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        """``NodeSelectorTerm`` matching: every requirement holds; the node's fields are
        compared only when it has a name."""
        if self.problem is not None:
            return False
        for requirement in self.expressions:
            if not requirement.holds(labels.get(requirement.key)):
                return False
        if self.fields and name:
            return all(f.holds(name) for f in self.fields)
        return True


def sequence(value: Any) -> Sequence[Any] | None:
    """A list, ``()`` for null; None when it is something else."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None
    return value


def _strings(value: Any) -> list[str] | None:
    """A requirement's values; None when they are not a list."""
    found = sequence(value)
    if found is None:
        return None
    return ["" if v is None else str(v) for v in found]


def _collection(value: Any) -> str:
    """ "a list" or "a mapping" for a value that is one (no field of a requirement may be), else ""."""
    if isinstance(value, Mapping):
        return "a mapping"
    return "a list" if isinstance(value, list | tuple) else ""


def _shape_problem(raw: Mapping[str, Any], where: str, fields: Sequence[str]) -> Problem | None:
    """A key, operator or value that is a list or a mapping: the API server refuses the
    object (these are strings), so it is never quoted as if it were text."""
    for field in fields:
        kind = _collection(raw.get(field))
        if kind:
            return Problem(SHAPE, f"{where}.{field}", f"is {kind}, not a string")
    for index, value in enumerate(sequence(raw.get("values")) or ()):
        kind = _collection(value)
        if kind:
            return Problem(SHAPE, f"{where}.values[{index}]", f"is {kind}, not a string")
    return None


def _not_a_list(raw: Mapping[str, Any], where: str) -> Problem:
    return Problem(SHAPE, f"{where}.values", wrong(raw.get("values"), "a list"))


def _values(raw: Any, where: str) -> tuple[list[str] | None, Problem | None]:
    """A requirement's values, or None and the shape problem of the entry (not a mapping,
    values not a list, a key, operator or value that is a list or a mapping)."""
    if not isinstance(raw, Mapping):
        return None, Problem(SHAPE, where, wrong(raw, "a mapping"))
    values = _strings(raw.get("values"))
    if values is None:
        return None, _not_a_list(raw, where)
    shape = _shape_problem(raw, where, ("key", "operator"))
    if shape is not None:
        return None, shape
    return values, None


def parse_requirement(raw: Any, where: str) -> tuple[Requirement | None, Problem | None]:
    """One ``matchExpressions`` entry."""
    values, problem = _values(raw, where)
    if values is None:
        return None, problem
    key = raw.get("key")
    key = "" if key is None else str(key)
    operator = raw.get("operator")
    why = label_key_problem(key) or requirement_problem(operator, values)
    if why:
        return None, Problem(INVALID, where, why)
    return Requirement(key, str(operator), tuple(values)), None


def parse_field(raw: Any, where: str) -> tuple[FieldRequirement | None, Problem | None]:
    """One ``matchFields`` entry."""
    values, problem = _values(raw, where)
    if values is None:
        return None, problem
    operator = raw.get("operator")
    if operator not in ("In", "NotIn"):
        said = "no operator" if operator is None else f"unsupported operator {operator!r}"
        return None, Problem(INVALID, where, f"{said} (In or NotIn)")
    if len(values) != 1:
        return None, Problem(INVALID, where, f"{operator} needs exactly one value")
    key = raw.get("key")
    return FieldRequirement("" if key is None else str(key), str(operator), values[0]), None


def parse_term(raw: Any, where: str) -> Term | None:
    """A node selector term; None for an empty (or null) one, which matches no node."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return Term((), (), Problem(SHAPE, where, wrong(raw, "a mapping")))
    raw_exprs = sequence(raw.get("matchExpressions"))
    raw_fields = sequence(raw.get("matchFields"))
    for name, found in (("matchExpressions", raw_exprs), ("matchFields", raw_fields)):
        if found is None:
            return Term((), (), Problem(SHAPE, f"{where}.{name}", wrong(raw.get(name), "a list")))
    assert raw_exprs is not None and raw_fields is not None
    if not raw_exprs and not raw_fields:
        return None
    exprs = [parse_requirement(item, f"{where}.matchExpressions[{j}]") for j, item in enumerate(raw_exprs)]
    fields = [parse_field(item, f"{where}.matchFields[{j}]") for j, item in enumerate(raw_fields)]
    problems = [p for _, p in (*exprs, *fields) if p is not None]
    # A shape problem is reported before an invalid requirement: it is what the API server
    # would refuse first.
    problems.sort(key=lambda p: p.kind != SHAPE)
    return Term(
        tuple(e for e, _ in exprs if e is not None),
        tuple(f for f, _ in fields if f is not None),
        problems[0] if problems else None,
    )
