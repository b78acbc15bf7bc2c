"""A small model of kube-scheduler's node filtering by ``nodeSelector`` and required node affinity.

Written from the Kubernetes API reference (PodSpec, NodeAffinity, NodeSelector,
NodeSelectorTerm, NodeSelectorRequirement), the NodeAffinity filter plugin and the helpers it
uses (``component-helpers/scheduling/corev1/nodeaffinity``, apimachinery's label selectors),
independently of :mod:`kubectl_arch.affinity` and :mod:`kubectl_arch.fit`, so that the tests
can use it as an oracle:

* every ``nodeSelector`` entry must equal the node label of the same key (a missing label
  fails), and the ``nodeSelector`` is ANDed with the required node affinity;
* a missing or null ``affinity``, ``nodeAffinity`` or ``requiredDuringScheduling...`` imposes
  no constraint; a present ``requiredDuringScheduling...`` whose ``nodeSelectorTerms`` is
  missing, null or empty matches no node (the helpers OR over no terms);
* the terms are ORed; inside one term ``matchExpressions`` and ``matchFields`` are all ANDed;
* a term with neither ``matchExpressions`` nor ``matchFields`` (null or empty) matches no node;
* ``In``: the label exists and its value is listed; ``NotIn``: the label is absent or its value
  is not listed; ``Exists`` / ``DoesNotExist``: the label is present / absent; ``Gt`` / ``Lt``:
  the label exists, it and the single value are integers, and the comparison holds;
* a term with a requirement the scheduler cannot parse matches no node: an unknown operator,
  ``In``/``NotIn`` without values, ``Exists``/``DoesNotExist`` with values, ``Gt``/``Lt``
  without exactly one integer value, a key that is not a qualified name or a value that is not
  a valid label value (63 characters at most, alphanumerics with ``-``, ``_`` and ``.``
  inside); for ``matchFields``, an operator other than ``In``/``NotIn`` or not exactly one
  value;
* ``matchFields`` compare against the node's fields, of which only ``metadata.name`` is set:
  any other key reads as the empty string;
* preferred terms, pod (anti-)affinity and tolerations never filter nodes by labels here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
NODE_NAME_FIELD = "metadata.name"
_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = (-(2**63), 2**63 - 1)
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?")
_SUBDOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


class Unparseable(Exception):
    """A requirement the scheduler's helpers reject: its term matches no node."""


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: an optional sign and ASCII digits, in int64 range."""
    if not isinstance(text, str) or not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else None


def _valid_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_NAME.fullmatch(value)))


def _valid_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash:
        if "/" in prefix or not prefix or len(prefix) > 253:
            return False
        if not all(_SUBDOMAIN_LABEL.fullmatch(part) for part in prefix.split(".")):
            return False
    return 0 < len(name) <= 63 and bool(_NAME.fullmatch(name))


def _strings(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"values must be a list, got {values!r}")
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"values must be strings, got {values!r}")
    return list(values)


def _check(operator: str, values: Sequence[str]) -> None:
    """Raise Unparseable when the scheduler cannot build this requirement."""
    counts = {"In": (1, None), "NotIn": (1, None), "Exists": (0, 0), "DoesNotExist": (0, 0)}
    if operator in ("Gt", "Lt"):
        if len(values) != 1 or _go_int(values[0]) is None:
            raise Unparseable(f"{operator} needs one integer value")
    elif operator in counts:
        low, high = counts[operator]
        if len(values) < low or (high is not None and len(values) > high):
            raise Unparseable(f"{operator} with {len(values)} values")
    else:
        raise Unparseable(f"unknown operator {operator!r}")
    if not all(_valid_value(v) for v in values):
        raise Unparseable("invalid label value")


def requirement_matches(operator: str, values: Sequence[str], label: str | None) -> bool:
    """One NodeSelectorRequirement against a label value (``None``: the node lacks the label).
    A requirement the scheduler cannot parse matches nothing."""
    try:
        _check(operator, values)
    except Unparseable:
        return False
    if operator == "In":
        return label is not None and label in values
    if operator == "NotIn":
        return label is None or label not in values
    if operator == "Exists":
        return label is not None
    if operator == "DoesNotExist":
        return label is None
    actual, bound = _go_int(label) if label is not None else None, _go_int(values[0])
    if actual is None or bound is None:
        return False
    return actual > bound if operator == "Gt" else actual < bound


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    values = _strings(expression.get("values"))
    key = expression.get("key") or ""
    if not _valid_key(key):
        raise Unparseable(f"invalid key {key!r}")
    operator = expression.get("operator") or ""
    _check(operator, values)
    return requirement_matches(operator, values, labels.get(key))


def _field_matches(requirement: Mapping[str, Any], name: str) -> bool:
    values = _strings(requirement.get("values"))
    operator = requirement.get("operator")
    if operator not in ("In", "NotIn") or len(values) != 1:
        raise Unparseable("field requirement")
    value = name if requirement.get("key") == NODE_NAME_FIELD else ""
    return (value == values[0]) == (operator == "In")


def term_matches(term: Mapping[str, Any] | None, labels: Mapping[str, str], name: str) -> bool:
    """One NodeSelectorTerm; a null term, like an empty one, matches nothing, and so does a
    term the scheduler cannot parse."""
    term = term or {}
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    try:
        # Parse everything first: a bad requirement spoils the term even after a mismatch.
        label_results = [_expression_matches(e, labels) for e in expressions]
        field_results = [_field_matches(f, name) for f in fields]
    except Unparseable:
        return False
    return all(label_results) and all(field_results)


def selector_matches(node_selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in (node_selector or {}).items())


def required_terms(pod_spec: Mapping[str, Any]) -> list[Any] | None:
    """The required node selector terms (possibly none, which matches no node), or None when
    there is no required node affinity."""
    affinity = pod_spec.get("affinity") or {}
    node_affinity = affinity.get("nodeAffinity") or {}
    required = node_affinity.get(REQUIRED)
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or [])


def pod_matches_node(pod_spec: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    """Whether the scheduler's node affinity filter lets this pod onto this node."""
    if not selector_matches(pod_spec.get("nodeSelector"), labels):
        return False
    terms = required_terms(pod_spec)
    if terms is None:
        return True
    return any(term_matches(term, labels, name) for term in terms)
