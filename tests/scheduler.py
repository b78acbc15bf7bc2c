"""A small model of kube-scheduler's node filtering by ``nodeSelector`` and required node affinity.

Written from the Kubernetes API reference (PodSpec, NodeAffinity, NodeSelector,
NodeSelectorTerm, NodeSelectorRequirement) and the NodeAffinity filter plugin, independently
of :mod:`kubectl_arch.affinity`, so that the tests can use it as an oracle:

* every ``nodeSelector`` entry must equal the node label of the same key (a missing label
  fails), and the ``nodeSelector`` is ANDed with the required node affinity;
* the ``nodeSelectorTerms`` of ``requiredDuringSchedulingIgnoredDuringExecution`` are ORed;
  inside one term ``matchExpressions`` and ``matchFields`` are all ANDed;
* a term with neither ``matchExpressions`` nor ``matchFields`` (null or empty) matches no node;
* ``In``: the label exists and its value is listed; ``NotIn``: the label is absent or its value
  is not listed; ``Exists`` / ``DoesNotExist``: the label is present / absent; ``Gt`` / ``Lt``:
  the label exists, it and the single value are integers, and the comparison holds;
* a requirement the scheduler cannot parse (``In``/``NotIn`` without values, ``Exists`` with
  values, ``Gt`` without exactly one integer value) makes its term match nothing;
* ``matchFields`` supports the key ``metadata.name`` with ``In``/``NotIn`` and exactly one value;
* preferred terms, pod (anti-)affinity and tolerations never filter nodes by labels here.

A missing or null ``affinity``, ``nodeAffinity`` or ``requiredDuringScheduling...`` imposes no
constraint; a required node selector whose ``nodeSelectorTerms`` is missing, null or empty
matches no node (its terms are ORed, and none matches; the API server also refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
NODE_NAME_FIELD = "metadata.name"
_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = (-(2**63), 2**63 - 1)


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: an optional sign and ASCII digits, in int64 range."""
    if not isinstance(text, str) or not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else None


def _strings(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"values must be a list, got {values!r}")
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"values must be strings, got {values!r}")
    return list(values)


def requirement_matches(operator: str, values: Sequence[str], label: str | None) -> bool:
    """One NodeSelectorRequirement against a label value (``None``: the node lacks the label)."""
    if operator == "In":
        return bool(values) and label is not None and label in values
    if operator == "NotIn":
        return bool(values) and (label is None or label not in values)
    if operator == "Exists":
        return not values and label is not None
    if operator == "DoesNotExist":
        return not values and label is None
    if operator in ("Gt", "Lt"):
        if len(values) != 1 or label is None:
            return False
        bound, actual = _go_int(values[0]), _go_int(label)
        if bound is None or actual is None:
            return False
        return actual > bound if operator == "Gt" else actual < bound
    raise ValueError(f"unknown operator {operator!r}")


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    values = _strings(expression.get("values"))
    return requirement_matches(expression["operator"], values, labels.get(expression["key"]))


def _field_matches(requirement: Mapping[str, Any], name: str) -> bool:
    values = _strings(requirement.get("values"))
    operator = requirement["operator"]
    if requirement["key"] != NODE_NAME_FIELD or operator not in ("In", "NotIn") or len(values) != 1:
        return False  # the scheduler cannot turn this into a field selector: the term fails
    return (name == values[0]) == (operator == "In")


def term_matches(term: Mapping[str, Any] | None, labels: Mapping[str, str], name: str) -> bool:
    """One NodeSelectorTerm; a null term, like an empty one, matches nothing."""
    term = term or {}
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    return all(_expression_matches(e, labels) for e in expressions) and all(
        _field_matches(f, name) for f in fields
    )


def selector_matches(node_selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in (node_selector or {}).items())


def required_terms(pod_spec: Mapping[str, Any]) -> list[Any] | None:
    """The required node selector terms (maybe none, which matches no node), or None when
    there is no required node selector."""
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
