"""``check`` decides as kube-scheduler does: cases of the scheduler's own tests, restated as
tables of our own and run through :func:`kubectl_arch.fit.fit` (and the scheduler model of
``tests/scheduler.py``, which must agree). Each case names the test it comes from:

* ``nodeaffinity_test.go`` of ``component-helpers/scheduling/corev1/nodeaffinity``
  (TestPodMatchesNodeSelectorAndAffinityTerms, TestNodeSelectorMatch,
  TestNodeSelectorRequirementsAsSelector);
* ``node_affinity_test.go`` of ``pkg/scheduler/framework/plugins/nodeaffinity`` (TestNodeAffinity);
* ``taint_toleration_test.go`` (TestTaintTolerationFilter) and ``node_unschedulable_test.go``
  (TestNodeUnschedulable) of the same plugins directory.

Cases about features outside a pod spec (the plugin's ``addedAffinity`` arguments) or behind
alpha feature gates (``Gt``/``Lt`` tolerations) are not restated.
"""

from __future__ import annotations

from typing import Any

import pytest
from scheduler import pod_matches_node
from test_scheduler import expr

from kubectl_arch import fit
from kubectl_arch.cluster import nodeinfo
from kubectl_arch.cluster.nodeinfo import NodeInfo
from kubectl_arch.platforms import Platform

REQUIRED = fit.REQUIRED
ANY_IMAGE = {"app": [Platform("linux", "amd64")]}


def node(
    name: str = "node1",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
) -> NodeInfo:
    """A Ready linux/amd64 node read from a Node object, as check reads them."""
    obj: dict[str, Any] = {
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", **(labels or {})},
        },
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    return nodeinfo.from_object(obj, [])


def required(*terms: Any, terms_value: Any = ...) -> dict[str, Any]:
    selector: dict[str, Any] = {"nodeSelectorTerms": list(terms) if terms_value is ... else terms_value}
    return {"affinity": {"nodeAffinity": {REQUIRED: selector}}}


def term(*expressions: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if expressions:
        out["matchExpressions"] = list(expressions)
    if fields is not None:
        out["matchFields"] = fields
    return out


def name_is(*names: str, operator: str = "In") -> dict[str, Any]:
    return expr("metadata.name", operator, *names)


def fits(pod: dict[str, Any], n: NodeInfo) -> bool:
    return fit.fit(pod, ANY_IMAGE, [n]).fits


# -- NodeAffinity -----------------------------------------------------------------------------

# (pod spec, node labels, node name, fits)
AFFINITY = [
    # TestPodMatchesNodeSelectorAndAffinityTerms "no selector"
    ({}, {}, "node1", True),
    # "missing labels"
    ({"nodeSelector": {"foo": "bar"}}, {}, "node1", False),
    # "same labels"
    ({"nodeSelector": {"foo": "bar"}}, {"foo": "bar"}, "node1", True),
    # "node labels are superset"
    ({"nodeSelector": {"foo": "bar"}}, {"foo": "bar", "baz": "blah"}, "node1", True),
    # "node labels are subset"
    ({"nodeSelector": {"foo": "bar", "baz": "blah"}}, {"foo": "bar"}, "node1", False),
    # "Pod with matchExpressions using In operator that matches the existing node"
    (required(term(expr("foo", "In", "bar", "value2"))), {"foo": "bar"}, "node1", True),
    # "... using Gt operator that matches the existing node" (two digits major, two minor)
    (required(term(expr("kernel-version", "Gt", "0204"))), {"kernel-version": "0206"}, "node1", True),
    # "... using NotIn operator that matches the existing node"
    (required(term(expr("mem-type", "NotIn", "DDR", "DDR2"))), {"mem-type": "DDR3"}, "node1", True),
    # "... using Exists operator that matches the existing node"
    (required(term(expr("GPU", "Exists"))), {"GPU": "NVIDIA-GRID-K1"}, "node1", True),
    # "Pod with affinity that don't match node's labels won't schedule onto the node"
    (required(term(expr("foo", "In", "value1", "value2"))), {"foo": "bar"}, "node1", False),
    # "Pod with a nil []NodeSelectorTerm in affinity, can't match the node's labels ..."
    (required(terms_value=None), {"foo": "bar"}, "node1", False),
    # "Pod with an empty []NodeSelectorTerm in affinity, can't match the node's labels ..."
    (required(), {"foo": "bar"}, "node1", False),
    # a required node affinity that is an empty object: no terms either
    ({"affinity": {"nodeAffinity": {REQUIRED: {}}}}, {"foo": "bar"}, "node1", False),
    # "Pod with empty MatchExpressions is not a valid value will match no objects ..."
    (required({"matchExpressions": []}), {"foo": "bar"}, "node1", False),
    # "Pod with no Affinity will schedule onto a node"
    ({}, {"foo": "bar"}, "node1", True),
    # "Pod with Affinity but nil NodeSelector will schedule onto a node"
    ({"affinity": {"nodeAffinity": {REQUIRED: None}}}, {"foo": "bar"}, "node1", True),
    # "Pod with multiple matchExpressions ANDed that matches the existing node"
    (required(term(expr("GPU", "Exists"), expr("GPU", "NotIn", "AMD", "INTER"))), {"GPU": "NVIDIA-GRID-K1"}, "node1", True),
    # "Pod with multiple matchExpressions ANDed that doesn't match the existing node"
    (required(term(expr("GPU", "Exists"), expr("GPU", "In", "AMD", "INTER"))), {"GPU": "NVIDIA-GRID-K1"}, "node1", False),
    # "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels ..."
    (required(term(expr("foo", "In", "bar", "value2")), term(expr("diffkey", "In", "wrong", "value2"))), {"foo": "bar"}, "node1", True),
    # "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied ..."
    ({"nodeSelector": {"foo": "bar"}, **required(term(expr("foo", "Exists")))}, {"foo": "bar"}, "node1", True),
    # "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector ... is not satisfied ..."
    ({"nodeSelector": {"foo": "bar"}, **required(term(expr("foo", "Exists")))}, {"foo": "barrrrrr"}, "node1", False),
    # "Pod with an invalid value in Affinity term won't be scheduled onto the node"
    (required(term(expr("foo", "NotIn", "invalid value: ___@#$%^"))), {"foo": "bar"}, "node1", False),
    # "Pod with matchFields using In operator that matches the existing node"
    (required(term(fields=[name_is("node_1")])), {}, "node_1", True),
    # "Pod with matchFields using In operator that does not match the existing node"
    (required(term(fields=[name_is("node_1")])), {}, "node_2", False),
    # "Pod with two terms: matchFields does not match, but matchExpressions matches"
    (required(term(fields=[name_is("node_1")]), term(expr("foo", "In", "bar"))), {"foo": "bar"}, "node_2", True),
    # "Pod with one term: matchFields does not match, but matchExpressions matches"
    (required(term(expr("foo", "In", "bar"), fields=[name_is("node_1")])), {"foo": "bar"}, "node_2", False),
    # "Pod with one term: both matchFields and matchExpressions match"
    (required(term(expr("foo", "In", "bar"), fields=[name_is("node_1")])), {"foo": "bar"}, "node_1", True),
    # "Pod with two terms: both matchFields and matchExpressions do not match"
    (required(term(fields=[name_is("node_1")]), term(expr("foo", "In", "not-match-to-bar"))), {"foo": "bar"}, "node_2", False),
    # TestNodeAffinity "Pod with two terms: matchFields does not match, but matchExpressions
    # matches" (a term with two matchFields: node1 and node2 at once, which no node is)
    (required(term(fields=[name_is("node1"), name_is("node2")]), term(expr("foo", "In", "bar"))), {"foo": "bar"}, "node2", True),
    (required(term(fields=[name_is("node1"), name_is("node2")])), {}, "node2", False),
    # TestNodeSelectorMatch "invalid field selector and label selector": the scheduler's lazy
    # selector skips the two terms it cannot parse (two values for a field; a key with a
    # space) and matches with the valid one ...
    (
        required(
            term(fields=[name_is("host_1", "host_2")]),
            term(expr("label_1", "In", "label_1_val"), fields=[name_is("host_1")]),
            term(expr("invalid key", "In", "label_value")),
        ),
        {"label_1": "label_1_val"},
        "host_1",
        True,
    ),
    # ... and nothing else
    (required(term(fields=[name_is("host_1", "host_2")])), {}, "host_1", False),
    (required(term(expr("invalid key", "In", "label_value"))), {"invalid key": "label_value"}, "node1", False),
    # TestNodeSelectorMatch "node matches field selector, but not labels"
    (required(term(expr("label_1", "In", "label_1_val"), fields=[name_is("host_1")])), {}, "host_1", False),
    # TestNodeSelectorMatch "node matches field selector and label selector"
    (required(term(expr("label_1", "In", "label_1_val"), fields=[name_is("host_1")])), {"label_1": "label_1_val"}, "host_1", True),
    # TestNodeSelectorMatch "second term matches"
    (required(term(expr("label_1", "In", "label_1_val")), term(fields=[name_is("host_1")])), {}, "host_1", True),
    # TestNodeSelectorRequirementsAsSelector: Exists with values cannot be parsed
    (required(term(expr("foo", "Exists", "bar", "baz"))), {"foo": "bar"}, "node1", False),
    # TestNodeSelectorRequirementsAsSelector: "foo>1" and "bar<7"
    (required(term(expr("foo", "Gt", "1"))), {"foo": "2"}, "node1", True),
    (required(term(expr("bar", "Lt", "7"))), {"bar": "7"}, "node1", False),
    # nodeSelectorRequirementsAsSelector: an operator it does not know
    (required(term(expr("foo", "Equals", "bar"))), {"foo": "bar"}, "node1", False),
]  # fmt: skip


@pytest.mark.parametrize(("pod", "labels", "name", "expected"), AFFINITY)
def test_node_affinity_as_the_scheduler_decides(
    pod: dict[str, Any], labels: dict[str, str], name: str, expected: bool
) -> None:
    n = node(name, labels)
    assert fits(pod, n) is expected
    assert pod_matches_node(pod, n.labels, n.name) is expected  # the model agrees


def test_why_an_affinity_matches_no_node() -> None:
    """A required node affinity that cannot match any node says why, once per rejection."""
    nodes = [node("a"), node("b")]
    cases = {
        "it has no nodeSelectorTerms, which matches no node": required(),
        "its nodeSelectorTerms are all empty, which matches no node": required({}, None),
        "the scheduler cannot parse it, so it matches no node: term 0.matchExpressions[0]: "
        "'invalid value: ___@#$%^' is not a valid label value": required(
            term(expr("foo", "NotIn", "invalid value: ___@#$%^"))
        ),
        "the scheduler cannot parse it, so it matches no node: term 0.matchExpressions[0]: "
        "unsupported operator 'Equals'": required(term(expr("foo", "Equals", "bar"))),
    }
    for why, pod in cases.items():
        result = fit.fit(pod, ANY_IMAGE, nodes)
        assert result.rejections == (fit.Rejection(fit.AFFINITY, why, 2),)
        assert result.explain() == f"0/2 nodes fit: 2 node(s) not matching the required node affinity ({why})"


# -- TaintToleration and NodeUnschedulable ----------------------------------------------------

DEDICATED_USER1 = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}

# (tolerations, taints, fits)
TAINTS = [
    # TestTaintTolerationFilter "A pod having no tolerations can't be scheduled onto a node with nonempty taints"
    ([], [DEDICATED_USER1], False),
    # "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule"
    ([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}], [DEDICATED_USER1], True),
    # "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule"
    ([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}], [DEDICATED_USER1], False),
    # "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node"
    ([{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}], [{"key": "foo", "value": "bar", "effect": "NoSchedule"}], True),
    # "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated ..."
    (
        [
            {"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
            {"key": "foo", "operator": "Exists", "effect": "NoSchedule"},
        ],
        [{"key": "dedicated", "value": "user2", "effect": "NoSchedule"}, {"key": "foo", "value": "bar", "effect": "NoSchedule"}],
        True,
    ),
    # "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match ..."
    ([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}], [{"key": "foo", "value": "bar", "effect": "NoSchedule"}], False),
    # "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty ..."
    ([{"key": "foo", "operator": "Equal", "value": "bar"}], [{"key": "foo", "value": "bar", "effect": "NoSchedule"}], True),
    # "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule ..."
    ([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}], [{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}], True),
    # "The pod has no toleration, but the effect of taint on node is PreferNoSchedule ..."
    ([], [{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}], True),
    # NoExecute keeps pods off as NoSchedule does (DoNotScheduleTaintsFilterFunc)
    ([], [{"key": "dedicated", "value": "user1", "effect": "NoExecute"}], False),
]  # fmt: skip


@pytest.mark.parametrize(("tolerations", "taints", "expected"), TAINTS)
def test_taints_and_tolerations_as_the_scheduler_decides(
    tolerations: list[dict[str, str]], taints: list[dict[str, str]], expected: bool
) -> None:
    result = fit.fit({"tolerations": tolerations}, ANY_IMAGE, [node(taints=taints)])
    assert result.fits is expected
    if not expected:
        assert result.reasons == (fit.UNTOLERATED_TAINT,)


@pytest.mark.parametrize(
    ("tolerations", "expected"),
    [
        ([], False),  # TestNodeUnschedulable "Does not schedule pod to unschedulable node"
        # "Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)"
        ([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}], True),
        ([{"operator": "Exists"}], True),
        ([{"key": "node.kubernetes.io/unschedulable", "effect": "NoExecute"}], False),
    ],
)
def test_cordoned_nodes_as_the_scheduler_decides(tolerations: list[dict[str, str]], expected: bool) -> None:
    result = fit.fit({"tolerations": tolerations}, ANY_IMAGE, [node(unschedulable=True)])
    assert result.fits is expected
    if not expected:
        assert result.reasons == (fit.CORDONED,)
    # TestNodeUnschedulable "Schedule pod to normal node"
    assert fit.fit({"tolerations": tolerations}, ANY_IMAGE, [node()]).fits


# -- the order of the filters -----------------------------------------------------------------


def test_reasons_follow_the_schedulers_filter_order() -> None:
    """The default filters run NodeUnschedulable, then TaintToleration, then NodeAffinity
    (nodeSelector included), and a node is counted under the first that rejects it; the image
    platforms come after them all (the kubelet's verdict, once a node is chosen)."""
    tainted = [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    wrong_zone = {"topology.kubernetes.io/zone": "b"}
    pod = {"nodeSelector": {"topology.kubernetes.io/zone": "a"}}
    s390x = {"app": [Platform("linux", "s390x")]}
    nodes = [
        node("cordoned-and-tainted", wrong_zone, tainted, unschedulable=True),
        node("tainted-and-elsewhere", wrong_zone, tainted),
        node("elsewhere", wrong_zone),
        node("here", {"topology.kubernetes.io/zone": "a"}),
    ]
    result = fit.fit(pod, s390x, nodes)
    assert [(r.reason, r.nodes) for r in result.rejections] == [
        (fit.CORDONED, 1),
        (fit.UNTOLERATED_TAINT, 1),
        (fit.NODE_SELECTOR, 1),
        (fit.IMAGE_PLATFORMS, 1),
    ]
    assert result.explain() == (
        "0/4 nodes fit: 1 node(s) cordoned, 1 node(s) with untolerated taint dedicated=db:NoSchedule, "
        "1 node(s) not matching the nodeSelector, 1 node(s) run linux/amd64, which image app cannot run on"
    )
