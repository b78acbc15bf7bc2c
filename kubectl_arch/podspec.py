"""What a pod spec says about where it runs besides its node selector and affinity: pure.

* ``spec.os.name`` (KEP-2802): the kubelet admits a pod only on a node of that OS
  (``PodOSNotSupported``, ``rejectPodAdmissionBasedOnOSField``); the scheduler does not look
  at it, so such a pod is placed on any node and then fails there.
* ``spec.nodeName``: the pod skips the scheduler and is bound to that node at once; only the
  kubelet's admission judges it there (its node affinity and nodeSelector, NoExecute taints,
  its OS), and it runs on no other node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OS_NAMES = ("linux", "windows")  # the values the API server accepts for spec.os.name


def os_name(pod_spec: Mapping[str, Any]) -> str | None:
    """``spec.os.name``; None when the pod names no OS."""
    os = pod_spec.get("os")
    if not isinstance(os, Mapping) or os.get("name") is None:
        return None
    return _text(os.get("name"))


def node_name(pod_spec: Mapping[str, Any]) -> str:
    """``spec.nodeName``; "" when the scheduler places the pod."""
    name = pod_spec.get("nodeName")
    return "" if name is None else _text(name)


def _text(value: Any) -> str:
    """A scalar field's text; a list or a mapping (which the API server refuses there) is
    described, never quoted as Python would print it."""
    if isinstance(value, Mapping):
        return "(a mapping)"
    return "(a list)" if isinstance(value, list | tuple) else str(value)
