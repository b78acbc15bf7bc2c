"""Options of ``pin`` given as data: a KRM ``functionConfig``, a Kustomize plugin config or a
``--config`` file. Two forms are accepted:

* a ``v1/ConfigMap`` whose ``data`` keys are the long flag names (what ``kpt fn eval --
  platform=linux/arm64`` sends): ``platform``, ``pod-template-path``, ``from-registry``,
  ``cluster``... (every value a string; ``true``/``false`` for switches);
* a typed ``kubectl-arch.dev/v1alpha1`` ``PlatformPin``, checked against its JSON schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from .errors import InputError

API_VERSION = "kubectl-arch.dev/v1alpha1"
KIND = "PlatformPin"
# ConfigMap data key (the long flag name) -> PinSettings field and the typed field name.
OPTIONS = {
    "platform": ("platforms", "platforms"),
    "pod-template-path": ("pod_template_paths", "podTemplatePaths"),
    "from-registry": ("from_registry", "fromRegistry"),
    "on-unknown-image": ("on_unknown_image", "onUnknownImage"),
    "lock": ("lock", "lock"),
    "locked": ("locked", "locked"),
    "digests": ("digests", "digests"),
    "images-from": ("images_from", "imagesFrom"),
    "insecure-registry": ("insecure_registries", "insecureRegistries"),
    "registry-ca-file": ("registry_ca_file", "registryCAFile"),
    "request-timeout": ("request_timeout", "requestTimeout"),
    "refresh": ("refresh", "refresh"),
    "tag-cache-ttl": ("tag_cache_ttl", "tagCacheTTL"),
    "cluster": ("cluster", "cluster"),
    "kubeconfig": ("kubeconfig", "kubeconfig"),
    "context": ("context", "context"),
    "selector": ("selector", "selector"),
    "tolerate-arch-taints": ("tolerate_arch_taints", "tolerateArchTaints"),
    "arch-taint": ("arch_taints", "archTaints"),
}
CONFIGMAP_KEYS = tuple(OPTIONS)
_LISTS = frozenset({"platforms", "pod_template_paths", "insecure_registries", "arch_taints", "images_from"})
_FLAGS = frozenset({"from_registry", "digests", "refresh", "cluster", "tolerate_arch_taints"})
# The options that only mean something when the cluster is read (--cluster).
CLUSTER_ONLY = ("kubeconfig", "context", "selector")
# The options of pin that check has no use for (check always reads the cluster, writes nothing).
PIN_ONLY = ("lock", "digests", "cluster", "tolerate-arch-taints", "arch-taint")


class PinSettings(NamedTuple):
    platforms: tuple[str, ...] = ()
    pod_template_paths: tuple[str, ...] = ()
    from_registry: bool = False
    on_unknown_image: str = ""
    lock: str = ""
    locked: str = ""
    digests: bool = False
    insecure_registries: tuple[str, ...] = ()
    registry_ca_file: str = ""
    request_timeout: str = ""  # registry requests, and API server requests with --cluster
    refresh: bool = False
    cluster: bool = False
    kubeconfig: str = ""
    context: str = ""
    selector: str = ""
    tolerate_arch_taints: bool = False
    arch_taints: tuple[str, ...] = ()
    images_from: tuple[str, ...] = ()
    tag_cache_ttl: str = ""  # seconds a tag's cached answer is trusted ("": the config file's)

    def overridden_by(self, other: PinSettings) -> PinSettings:
        """These settings with every option ``other`` sets taking precedence."""
        return PinSettings(*(b or a for a, b in zip(self, other, strict=True)))

    def check(self) -> None:
        """Reject cluster options that mean nothing together (InputError naming long flags)."""
        given = [f"--{key}" for key in CLUSTER_ONLY if getattr(self, OPTIONS[key][0])]
        if given and not self.cluster:
            raise InputError(f"{', '.join(given)}: used only when reading the cluster; add --cluster")
        if self.tolerate_arch_taints and not (self.cluster or self.arch_taints):
            raise InputError(
                "--tolerate-arch-taints needs the taints: add --cluster to find them on the nodes, "
                "or give them with --arch-taint KEY=VALUE:EFFECT"
            )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[\s,]+", value) if v)


def _platforms(value: str) -> tuple[str, ...]:
    """A platform list as ``--platform`` takes it: separated by commas, spaces around them
    allowed; ``linux/amd64 linux/arm64`` is left whole for the parser to refuse with its hint."""
    return (value,) if value.strip() else ()


def known_options(spelt: Mapping[str, str], command: str) -> str:
    """`` (known: ...)``: the options ``command`` accepts in the config's spelling (``spelt``:
    long flag name -> spelling), and for check those that only pin takes."""
    accepted = [v for k, v in spelt.items() if command != "check" or k not in PIN_ONLY]
    pin_only = f"; pin only: {', '.join(spelt[k] for k in PIN_ONLY)}" if command == "check" else ""
    return f" (known: {', '.join(accepted)}{pin_only})"


def _from_configmap(data: Any, where: str, command: str) -> PinSettings:
    if data is None:
        return PinSettings()
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: data must be a mapping")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in CONFIGMAP_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), CONFIGMAP_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = known_options({k: k for k in OPTIONS}, command)
            raise InputError(f"{where}: unknown option {key!r}{hint}{known}")
        if not isinstance(value, str):
            raise InputError(f"{where}: option {key!r} must be a string")
        name = OPTIONS[key][0]
        if name == "platforms":
            values[name] = _platforms(value)
        elif name in _LISTS:
            values[name] = _split(value)
        elif name in _FLAGS:
            if value.strip().lower() not in ("true", "false", ""):
                raise InputError(f"{where}: option {key!r} must be 'true' or 'false', not {value!r}")
            values[name] = value.strip().lower() == "true"
        else:
            values[name] = value.strip()
    return _checked(PinSettings(**values), where, {k: k for k in OPTIONS}, command)


def _checked(settings: PinSettings, where: str, names: Mapping[str, str], command: str) -> PinSettings:
    """``settings`` once every value parses and applies to ``command`` (pin or check); errors
    name the option as the config spells it (``names`` maps each long flag name to that
    spelling)."""
    from . import durations, resolve
    from . import platforms as plat
    from .manifest.workloads import KindError, parse_declaration

    try:
        plat.parse_list(settings.platforms)
    except plat.PlatformError as exc:
        raise InputError(f"{where}: {names['platform']}: {exc}") from None
    for value in settings.pod_template_paths:
        try:
            parse_declaration(value)
        except KindError as exc:
            raise InputError(f"{where}: {names['pod-template-path']}: {exc}") from None
    if settings.insecure_registries:
        from .registry.reference import check_host

        for value in settings.insecure_registries:
            try:
                check_host(value)
            except ValueError as exc:
                raise InputError(f"{where}: {names['insecure-registry']}: {exc}") from None
    if settings.arch_taints:
        from .tolerations import TaintError, parse_arch_taint

        for value in settings.arch_taints:
            try:
                parse_arch_taint(value)
            except TaintError as exc:
                raise InputError(f"{where}: {names['arch-taint']}: {exc}") from None
    try:
        durations.parse(settings.request_timeout)
        durations.parse(settings.tag_cache_ttl, "--tag-cache-ttl")
        if command == "check":
            unused = [names[k] for k in PIN_ONLY if getattr(settings, OPTIONS[k][0])]
            if unused:
                only = ", ".join(names[k] for k in PIN_ONLY)
                raise InputError(f"{', '.join(unused)}: not an option of check (options of pin only: {only})")
        resolve.check(settings)
        if command != "check":
            settings.check()
    except InputError as exc:
        raise InputError(f"{where}: {resolve.rename(str(exc), names)}") from None
    return settings


def _schema() -> dict[str, Any]:
    import json
    from importlib import resources

    text = resources.files("kubectl_arch").joinpath("schemas/platformpin.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", dict: "a mapping", list: "a list"}
    return "null" if value is None else names.get(type(value), f"{value!r}")


def _schema_error(error: Any, command: str = "pin") -> tuple[str, str]:
    """(field, message) for the first schema violation, in the words of the config file."""
    from .affinity import field_path

    field = field_path(error.absolute_path)
    if error.validator == "additionalProperties":
        import difflib

        known = list(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        options = [k for k in known if k not in ("apiVersion", "kind", "metadata")]
        close = difflib.get_close_matches(unknown[0], options, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if field:  # inside a field: its own keys
            return field, f"unknown field {unknown[0]!r}{hint} (known: {', '.join(options)})"
        spelt = {k: v[1] for k, v in OPTIONS.items() if v[1] in options}
        return field, f"unknown field {unknown[0]!r}{hint}{known_options(spelt, command)}"
    if error.validator == "oneOf":
        # The branch of the value's own type says what is wrong with it (empty list, empty
        # item); when no branch has its type, say which types are accepted.
        types: dict[str, Any] = {
            "string": str,
            "array": list,
            "object": dict,
            "number": (int, float),
            "integer": int,
        }
        words = {
            "string": "a string",
            "array": "a list of strings",
            "object": "a mapping",
            "number": "a number",
            "integer": "an integer",
        }
        branches = error.schema.get("oneOf", [])

        def fits(branch: int) -> bool:
            expected = types.get(branches[branch].get("type", ""))
            if isinstance(error.instance, bool):
                return False
            return expected is not None and isinstance(error.instance, expected)

        inner = [e for e in error.context if fits(e.relative_schema_path[0])]
        if inner:
            return _schema_error(inner[0], command)
        accepted = " or ".join(words.get(b.get("type", ""), "?") for b in branches)
        return field, f"expected {accepted}, got {_describe(error.instance)}"
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[0] == "podTemplatePaths":
        from .manifest.workloads import KindError, parse_declaration

        try:
            parse_declaration(str(error.instance))
        except KindError as exc:
            return field, str(exc)
    return field, error.message


def _from_typed(obj: Mapping[str, Any], where: str, command: str) -> PinSettings:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(dict(obj)), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        field, message = _schema_error(errors[0], command)
        raise InputError(f"{where}: {field}: {message}" if field else f"{where}: {message}")
    values: dict[str, Any] = {}
    for name, typed in OPTIONS.values():
        value = obj.get(typed)
        if value is None:
            continue
        if name == "platforms":
            values[name] = _platforms(value) if isinstance(value, str) else tuple(value)
        elif name in _LISTS:
            values[name] = _split(value) if isinstance(value, str) else tuple(value)
        elif name in _FLAGS:
            values[name] = value is True
        else:
            values[name] = str(value)
    return _checked(PinSettings(**values), where, {k: v[1] for k, v in OPTIONS.items()}, command)


def from_object(obj: Any, where: str, command: str = "pin") -> PinSettings:
    """Settings for ``command`` (pin or check) from a ConfigMap or PlatformPin object (None or
    empty: no settings)."""
    if not obj:
        return PinSettings()
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: expected a ConfigMap or {KIND} object")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind == "ConfigMap" and api_version in (None, "v1"):
        return _from_configmap(obj.get("data"), f"{where} ConfigMap", command)
    if kind == KIND:
        return _from_typed(obj, f"{where} {KIND}", command)
    raise InputError(
        f"{where}: unsupported kind {api_version}/{kind}; use a v1 ConfigMap or {API_VERSION} {KIND}"
    )


class Spelling(NamedTuple):
    """How a function's messages name its options: each long flag name (without ``--``) ->
    the functionConfig's spelling (see :meth:`of`); ``typed``: a PlatformPin's fields."""

    names: dict[str, str]
    typed: bool = False

    @classmethod
    def of(cls, obj: Any, given: PinSettings) -> Spelling:
        """For a function run with the functionConfig ``obj``: the ConfigMap keys (also when
        there is no config: what ``kpt fn eval -- KEY=VALUE`` writes) or the PlatformPin
        fields, for the options not given as flags in ``given`` (those keep their flag names)."""
        typed = isinstance(obj, Mapping) and obj.get("kind") == KIND
        names = {key: typed_name if typed else key for key, (name, typed_name) in OPTIONS.items()}
        return cls({k: v for k, v in names.items() if not getattr(given, OPTIONS[k][0])}, typed)

    def __call__(self, message: str) -> str:
        """``message`` with those flags spelt as the config spells them:
        ``--on-unknown-image=skip`` -> ``on-unknown-image=skip`` (ConfigMap) or
        ``onUnknownImage: skip`` (PlatformPin); ``--locked FILE`` -> ``locked FILE``;
        ``-l/--selector`` -> ``selector``. A command to run (``kubectl arch pin --lock FILE``, up
        to a ``;`` or parenthesis) is left as it is."""
        if not self.names or "--" not in message:
            return message
        flags = "|".join(re.escape(f) for f in sorted(self.names, key=len, reverse=True))
        assign = ": " if self.typed else "="

        def spelt(m: re.Match[str]) -> str:
            return m[0] if m[1] else self.names[m[2]] + (assign if m[3] else "")

        return re.sub(rf"(kubectl arch [^;()]*)|(?:-[a-zA-Z]/)?--({flags})(?![\w-])(=)?", spelt, message)


def typed_data(text: str, start: int, end: int) -> Any:
    """The YAML 1.1 typed data of the document at ``text[start:end]``.

    The fast reader leaves block scalars (``kustomize.config.k8s.io/id: |``, Kustomize's
    ``config.kubernetes.io/function: |``) unread; a config holding one is read in full.
    """
    from .manifest import yamlnodes as yn

    try:
        return yn.to_data(yn.compose(text, start, end).root, typed=True)
    except yn.NeedFullParse:
        return yn.to_data(yn.compose(text, start, end, full=True).root, typed=True)


def load(path: str) -> PinSettings:
    """Settings from a YAML file (``--config``, or a Kustomize legacy plugin's config)."""
    from .manifest import files as manifests
    from .manifest import yamlnodes as yn
    from .manifest import yamltext

    source = manifests.read_sources([path])[0]
    spans = [s for s in yamltext.split_documents(source.text) if yamltext.has_content(source.text, s)]
    if len(spans) != 1:
        raise InputError(f"{path}: expected one {KIND} or ConfigMap document, found {len(spans)}")
    try:
        data = typed_data(source.text, spans[0].start, spans[0].end)
    except yn.YamlSyntaxError as exc:
        raise InputError(
            f"{path}: invalid YAML at line {exc.line}, column {exc.column}: {exc.problem}"
        ) from None
    except yn.YamlShapeError as exc:
        raise InputError(f"{path}: {exc}") from None
    return from_object(data, path)
