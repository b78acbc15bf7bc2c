"""Options of ``pin`` given as data: a KRM ``functionConfig``, a Kustomize plugin config or a
``--config`` file. Two forms are accepted:

* a ``v1/ConfigMap`` whose ``data`` keys are the long flag names (what ``kpt fn eval --
  platform=linux/arm64`` sends): ``platform``, ``pod-template-path``;
* a typed ``kubectl-arch.dev/v1alpha1`` ``PlatformPin``, checked against its JSON schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .errors import InputError

API_VERSION = "kubectl-arch.dev/v1alpha1"
KIND = "PlatformPin"
CONFIGMAP_KEYS = ("platform", "pod-template-path")


class PinSettings(NamedTuple):
    platforms: tuple[str, ...] = ()
    pod_template_paths: tuple[str, ...] = ()

    def overridden_by(self, other: PinSettings) -> PinSettings:
        """These settings with every option ``other`` sets taking precedence."""
        return PinSettings(
            other.platforms or self.platforms,
            other.pod_template_paths or self.pod_template_paths,
        )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[\s,]+", value) if v)


def _from_configmap(data: Any, where: str) -> PinSettings:
    if data is None:
        return PinSettings()
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: data must be a mapping")
    for key, value in data.items():
        if key not in CONFIGMAP_KEYS:
            import difflib

            close = difflib.get_close_matches(key, CONFIGMAP_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(CONFIGMAP_KEYS)})"
            raise InputError(f"{where}: unknown option {key!r}{hint}")
        if not isinstance(value, str):
            raise InputError(f"{where}: option {key!r} must be a string")
    return PinSettings(
        platforms=_split(data.get("platform") or ""),
        pod_template_paths=_split(data.get("pod-template-path") or ""),
    )


def _schema() -> dict[str, Any]:
    import json
    from importlib import resources

    text = resources.files("kubectl_arch").joinpath("schemas/platformpin.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _from_typed(obj: Mapping[str, Any], where: str) -> PinSettings:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(dict(obj)), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        field = ".".join(str(p) for p in error.absolute_path) or KIND
        message = error.message
        if error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown field")
        raise InputError(f"{where}: {field}: {message}")
    platforms = obj.get("platforms") or ()
    if isinstance(platforms, str):
        platforms = _split(platforms)
    return PinSettings(tuple(platforms), tuple(obj.get("podTemplatePaths") or ()))


def from_object(obj: Any, where: str) -> PinSettings:
    """Settings from a ConfigMap or PlatformPin object (None or empty: no settings)."""
    if not obj:
        return PinSettings()
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: expected a ConfigMap or {KIND} object")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind == "ConfigMap" and api_version in (None, "v1"):
        return _from_configmap(obj.get("data"), f"{where} ConfigMap")
    if kind == KIND:
        return _from_typed(obj, f"{where} {KIND}")
    raise InputError(
        f"{where}: unsupported kind {api_version}/{kind}; use a v1 ConfigMap or {API_VERSION} {KIND}"
    )


def load(path: str) -> PinSettings:
    """Settings from a YAML file (``--config``, or a Kustomize legacy plugin's config)."""
    from . import manifests, yamltext
    from . import yamlnodes as yn

    source = manifests.read_sources([path])[0]
    spans = [s for s in yamltext.split_documents(source.text) if yamltext.has_content(source.text, s)]
    if len(spans) != 1:
        raise InputError(f"{path}: expected one {KIND} or ConfigMap document, found {len(spans)}")
    try:
        parsed = yn.compose(source.text, spans[0].start, spans[0].end)
        data = yn.to_data(parsed.root, typed=True)
    except yn.YamlSyntaxError as exc:
        raise InputError(
            f"{path}: invalid YAML at line {exc.line}, column {exc.column}: {exc.problem}"
        ) from None
    except yn.YamlShapeError as exc:
        raise InputError(f"{path}: {exc}") from None
    return from_object(data, str(Path(path)))
