"""The scheduler model used as an oracle by the affinity tests."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler import pod_matches_node, requirement_matches, term_matches

ARM_NODE = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64", "zone": "a", "gen": "3"}


def required(*terms: Any) -> dict[str, Any]:
    node_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
    return {"affinity": {"nodeAffinity": node_affinity}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


def term(*expressions: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"matchExpressions": list(expressions)}
    if fields is not None:
        out["matchFields"] = fields
    return out


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        ({}, True),
        ({"nodeSelector": None}, True),
        ({"nodeSelector": {}}, True),
        ({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, True),
        ({"nodeSelector": {"kubernetes.io/arch": "arm64", "zone": "a"}}, True),
        ({"nodeSelector": {"kubernetes.io/arch": "arm64", "zone": "b"}}, False),
        ({"nodeSelector": {"kubernetes.io/arch": "amd64"}}, False),
        ({"nodeSelector": {"missing": ""}}, False),
    ],
)
def test_node_selector_entries_are_all_required(pod: dict[str, Any], expected: bool) -> None:
    assert pod_matches_node(pod, ARM_NODE, "n1") is expected


@pytest.mark.parametrize(
    "pod",
    [
        {"affinity": None},
        {"affinity": {}},
        {"affinity": {"nodeAffinity": None}},
        {"affinity": {"nodeAffinity": {}}},
        {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": None}}},
        {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}}},
        {
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "preference": term(expr("kubernetes.io/arch", "In", "amd64"))}
                    ]
                }
            }
        },
    ],
)
def test_missing_required_affinity_is_no_constraint(pod: dict[str, Any]) -> None:
    assert pod_matches_node(pod, ARM_NODE, "n1")
    assert pod_matches_node(pod, {}, "n1")


@pytest.mark.parametrize(
    "pod",
    [
        {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}},
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": None}
                }
            }
        },
        required(),
    ],
)
def test_required_affinity_without_terms_matches_nothing(pod: dict[str, Any]) -> None:
    assert not pod_matches_node(pod, ARM_NODE, "n1")
    assert not pod_matches_node(pod, {}, "n1")


def test_terms_are_ored() -> None:
    amd = term(expr("kubernetes.io/arch", "In", "amd64"))
    arm = term(expr("kubernetes.io/arch", "In", "arm64"))
    assert pod_matches_node(required(amd, arm), ARM_NODE, "n1")
    assert pod_matches_node(required(arm, amd), ARM_NODE, "n1")
    assert not pod_matches_node(required(amd), ARM_NODE, "n1")


def test_expressions_and_fields_in_a_term_are_anded() -> None:
    arm = expr("kubernetes.io/arch", "In", "arm64")
    zone_b = expr("zone", "In", "b")
    assert pod_matches_node(required(term(arm, expr("zone", "In", "a"))), ARM_NODE, "n1")
    assert not pod_matches_node(required(term(arm, zone_b)), ARM_NODE, "n1")
    n1 = [expr("metadata.name", "In", "n1")]
    assert pod_matches_node(required(term(arm, fields=n1)), ARM_NODE, "n1")
    assert not pod_matches_node(required(term(arm, fields=n1)), ARM_NODE, "n2")
    assert not pod_matches_node(required(term(zone_b, fields=n1)), ARM_NODE, "n1")


def test_node_selector_and_affinity_are_anded() -> None:
    pod = {"nodeSelector": {"zone": "b"}, **required(term(expr("kubernetes.io/arch", "In", "arm64")))}
    assert not pod_matches_node(pod, ARM_NODE, "n1")
    pod["nodeSelector"] = {"zone": "a"}
    assert pod_matches_node(pod, ARM_NODE, "n1")


@pytest.mark.parametrize(
    "empty",
    [
        {},
        None,
        {"matchExpressions": []},
        {"matchExpressions": None, "matchFields": []},
        {"matchFields": None},
    ],
)
def test_empty_term_matches_nothing(empty: Any) -> None:
    assert not term_matches(empty, ARM_NODE, "n1")
    assert not pod_matches_node(required(empty), ARM_NODE, "n1")
    assert not pod_matches_node(required(empty), {}, "n1")
    assert pod_matches_node(required(empty, term(expr("zone", "Exists"))), ARM_NODE, "n1")


@pytest.mark.parametrize(
    ("operator", "values", "label", "expected"),
    [
        ("In", ["a", "b"], "a", True),
        ("In", ["a", "b"], "c", False),
        ("In", ["a"], None, False),
        ("In", [], "a", False),
        ("NotIn", ["a", "b"], "a", False),
        ("NotIn", ["a", "b"], "c", True),
        ("NotIn", ["a"], None, True),
        ("NotIn", [], "c", False),
        ("Exists", [], "a", True),
        ("Exists", [], "", True),
        ("Exists", [], None, False),
        ("Exists", ["a"], "a", False),
        ("DoesNotExist", [], None, True),
        ("DoesNotExist", [], "a", False),
        ("DoesNotExist", ["a"], None, False),
        ("Gt", ["2"], "3", True),
        ("Gt", ["3"], "3", False),
        ("Gt", ["-1"], "0", False),  # "-1" is an integer but not a valid label value
        ("Gt", ["+1"], "2", False),  # nor is "+1"
        ("Gt", ["01"], "2", True),
        ("Gt", ["2"], None, False),
        ("Gt", ["2"], "linux", False),
        ("Gt", ["x"], "3", False),
        ("Gt", ["1", "2"], "3", False),
        ("Gt", [], "3", False),
        ("Gt", ["2"], " 3", False),
        ("Gt", ["2"], "3_0", False),
        ("Gt", ["2"], "99999999999999999999", False),
        ("Lt", ["4"], "3", True),
        ("Lt", ["3"], "3", False),
        ("Lt", ["4"], "amd64", False),
        ("Lt", ["4"], None, False),
        ("Equals", ["a"], "a", False),  # an unknown operator: the scheduler cannot parse it
        ("NotIn", ["invalid value: ___@#$%^"], "bar", False),  # nor an invalid value
        ("In", ["a" * 64], "a" * 64, False),  # values have at most 63 characters
        ("In", [""], "", True),  # the empty value is valid
    ],
)
def test_operators(operator: str, values: list[str], label: str | None, expected: bool) -> None:
    assert requirement_matches(operator, values, label) is expected


def test_operator_absent_label_through_pod() -> None:
    not_in = required(term(expr("beta.kubernetes.io/arch", "NotIn", "amd64")))
    assert pod_matches_node(not_in, ARM_NODE, "n1")
    assert pod_matches_node(not_in, {**ARM_NODE, "beta.kubernetes.io/arch": "arm64"}, "n1")
    assert not pod_matches_node(not_in, {**ARM_NODE, "beta.kubernetes.io/arch": "amd64"}, "n1")
    assert pod_matches_node(required(term(expr("gen", "Gt", "2"))), ARM_NODE, "n1")
    assert not pod_matches_node(required(term(expr("gen", "Lt", "2"))), ARM_NODE, "n1")


def test_an_unparseable_requirement_spoils_its_term_only() -> None:
    bad_key = term(expr("invalid key", "In", "a"), expr("zone", "In", "a"))
    bad_value = term(expr("zone", "NotIn", "x y"))
    good = term(expr("zone", "In", "a"))
    assert not pod_matches_node(required(bad_key), ARM_NODE, "n1")
    assert not pod_matches_node(required(bad_value), ARM_NODE, "n1")
    assert pod_matches_node(required(bad_key, good), ARM_NODE, "n1")
    assert not pod_matches_node(required(term(expr("zone", "Exists", "a"))), ARM_NODE, "n1")
    assert pod_matches_node(required(term(expr("example.com/zone", "DoesNotExist"))), ARM_NODE, "n1")
    assert not pod_matches_node(required(term(expr("Example.com/zone", "DoesNotExist"))), ARM_NODE, "n1")


@pytest.mark.parametrize(
    ("fields", "name", "expected"),
    [
        ([expr("metadata.name", "In", "n1")], "n1", True),
        ([expr("metadata.name", "In", "n1")], "n2", False),
        ([expr("metadata.name", "NotIn", "n1")], "n1", False),
        ([expr("metadata.name", "NotIn", "n1")], "n2", True),
        ([expr("metadata.name", "In", "n1"), expr("metadata.name", "NotIn", "n2")], "n1", True),
        ([expr("metadata.name", "In", "n1", "n2")], "n1", False),  # exactly one value
        ([expr("metadata.name", "Exists")], "n1", False),
        ([expr("metadata.uid", "In", "n1")], "n1", False),  # only metadata.name is set: "" here
        ([expr("metadata.uid", "NotIn", "n1")], "n1", True),
        ([expr("metadata.uid", "In", "")], "n1", True),
    ],
)
def test_match_fields(fields: list[dict[str, Any]], name: str, expected: bool) -> None:
    assert term_matches({"matchFields": fields}, ARM_NODE, name) is expected


def test_non_string_values_are_refused() -> None:
    with pytest.raises(TypeError):
        pod_matches_node(required(term(expr("gen", "In", 3))), ARM_NODE, "n1")  # type: ignore[arg-type]
