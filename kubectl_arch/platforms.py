"""The platform vocabulary: parsing, normalisation, matching and node-level projection.

Everything platform-shaped is parsed here and nowhere else. Parsing follows containerd's
``platforms`` package (``linux/arm64/v8`` == ``linux/arm64``, ``aarch64`` -> ``arm64``,
``armhf`` -> ``arm/v7``), except that an OS is always required: ``arm64`` alone is rejected
with a suggestion instead of silently meaning "the OS of this machine".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# GOOS and GOARCH values (go tool dist list) plus the ones OCI images use in practice.
KNOWN_OS = frozenset(
    {
        "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
        "linux", "netbsd", "openbsd", "plan9", "solaris", "wasi", "wasip1", "windows", "zos",
    }
)  # fmt: skip
KNOWN_ARCH = frozenset(
    {
        "386", "amd64", "amd64p32", "arm", "arm64", "arm64be", "armbe", "loong64", "mips",
        "mips64", "mips64le", "mips64p32", "mips64p32le", "mipsle", "ppc", "ppc64", "ppc64le",
        "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
    }
)  # fmt: skip
# The platforms images are commonly built for (docker buildx's defaults and beyond), in the
# order shell completion offers them.
COMMON = (
    "linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386", "linux/ppc64le",
    "linux/s390x", "linux/riscv64", "linux/amd64/v2", "linux/amd64/v3", "windows/amd64",
    "windows/arm64",
)  # fmt: skip
_OS_ALIASES = {"macos": "darwin", "osx": "darwin", "win": "windows"}
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "x64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "x86": ("386", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "armv6l": ("arm", "v6"),
    "armv7l": ("arm", "v7"),
}
# Variants in order of capability: an image built for an earlier variant runs on a later one.
VARIANT_ORDER = {
    "arm": ("v5", "v6", "v7", "v8"),
    "arm64": (
        "",
        "v8.1",
        "v8.2",
        "v8.3",
        "v8.4",
        "v8.5",
        "v8.6",
        "v8.7",
        "v8.8",
        "v8.9",
        "v9",
        "v9.1",
        "v9.2",
        "v9.3",
        "v9.4",
        "v9.5",
    ),
    "amd64": ("", "v2", "v3", "v4"),
}
# The variant that every node of an architecture can run: images built for a later variant
# may fail on some nodes, and node labels cannot tell which nodes those are.
BASELINE_VARIANT = {"arm": "v6", "arm64": "", "amd64": ""}


class PlatformError(ValueError):
    """A platform string that cannot be parsed; the message says why and suggests a fix."""


class Platform(NamedTuple):
    """An OCI platform. ``variant`` and ``os_version`` are empty when absent."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @property
    def node(self) -> tuple[str, str]:
        """What a node's labels can say about this platform: (kubernetes.io/os, kubernetes.io/arch)."""
        return (self.os, self.architecture)


def normalize(os: str, arch: str, variant: str = "", os_version: str = "") -> Platform:
    """Normalise like containerd's ``platforms.Normalize``."""
    os = os.lower()
    os = _OS_ALIASES.get(os, os)
    arch, variant = arch.lower(), variant.lower()
    if arch in _ARCH_ALIASES:
        arch, alias_variant = _ARCH_ALIASES[arch]
        variant = variant or alias_variant
    if arch == "arm64":
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        elif variant and not variant.startswith("v"):
            variant = "v" + variant
    elif arch == "amd64":
        if variant in ("v1", "1"):
            variant = ""
        elif variant in ("2", "3", "4"):
            variant = "v" + variant
    elif arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    elif arch == "386":
        variant = ""
    return Platform(os, arch, variant, os_version)


def _suggest(word: str, choices: Iterable[str]) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else ""


def parse(text: str) -> Platform:
    """Parse ``os/arch[/variant]`` strictly, raising PlatformError with a suggestion on typos."""
    raw = text.strip()
    if not raw:
        raise PlatformError("empty platform; expected os/arch[/variant], e.g. linux/arm64")
    words = raw.replace(";", " ").replace("|", " ").split()
    if len(words) > 1:  # several platforms, not separated as --platform takes them
        fixed = [_corrected(w) for w in words]
        hint = f"; did you mean {','.join(fixed)}?" if all(fixed) else ""
        raise PlatformError(f"invalid platform {raw!r}: separate platforms with commas{hint}")
    parts = raw.split("/")
    if len(parts) == 1:
        hint = ""
        for sep in ("-", "_"):
            if sep in raw:
                os_part, _, arch_part = raw.partition(sep)
                try:
                    hint = str(parse(f"{os_part}/{arch_part}"))
                except PlatformError:
                    hint = ""
                break
        if not hint:
            arch = raw.lower()
            if arch in KNOWN_ARCH or arch in _ARCH_ALIASES:
                hint = str(normalize("linux", arch))
        msg = f"invalid platform {raw!r}: expected os/arch[/variant]"
        raise PlatformError(msg + (f"; did you mean {hint}?" if hint else ", e.g. linux/arm64"))
    if len(parts) > 3 or not all(parts):
        raise PlatformError(f"invalid platform {raw!r}: expected os/arch[/variant], e.g. linux/arm/v7")
    os, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else ""
    norm = normalize(os, arch, variant)
    if norm.os not in KNOWN_OS:
        fix = _suggest(norm.os, KNOWN_OS | set(_OS_ALIASES))
        fix = _OS_ALIASES.get(fix, fix)
        hint = f"; did you mean {Platform(fix, *norm[1:3])}?" if fix else ""
        raise PlatformError(f"invalid platform {raw!r}: unknown os {os!r}{hint}")
    if norm.architecture not in KNOWN_ARCH:
        fix = _suggest(norm.architecture, KNOWN_ARCH | set(_ARCH_ALIASES))
        if fix:
            fixed = normalize(norm.os, fix, norm.variant)
            hint = f"; did you mean {fixed}?"
        else:
            hint = ""
        raise PlatformError(f"invalid platform {raw!r}: unknown architecture {arch!r}{hint}")
    known_variants = VARIANT_ORDER.get(norm.architecture)
    if norm.variant and known_variants is not None and norm.variant not in known_variants:
        listed = ", ".join(v for v in known_variants if v)
        raise PlatformError(
            f"invalid platform {raw!r}: unknown variant {variant!r} for {norm.architecture} (known: {listed})"
        )
    return norm


def _corrected(text: str) -> str:
    """``text`` as a platform, or what its error suggests instead ("" when nothing)."""
    try:
        return str(parse(text))
    except PlatformError as exc:
        message = str(exc)
        start = message.rfind("; did you mean ")
        return message[start + len("; did you mean ") : -1] if start >= 0 else ""


def parse_list(values: Iterable[str]) -> frozenset[Platform]:
    """Parse repeatable, comma-separated ``--platform`` values into a set."""
    result: set[Platform] = set()
    for value in values:
        for item in value.split(","):
            if not item.strip():
                raise PlatformError(f"empty entry in platform list {value!r}")
            result.add(parse(item))
    return frozenset(result)


def sort_key(p: Platform) -> tuple[str, str, str, str]:
    return (p.os, p.architecture, p.variant, p.os_version)


def format_list(platforms: Iterable[Platform]) -> str:
    return ",".join(str(p) for p in sorted(set(platforms), key=sort_key))


def format_nodes(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{o}/{a}" for o, a in sorted(set(pairs)))


def _variant_rank(arch: str, variant: str) -> int:
    order = VARIANT_ORDER.get(arch)
    if order is None or variant not in order:
        return 0
    return order.index(variant)


def variant_gaps(per_image: Iterable[Iterable[Platform]], nodes: Iterable[tuple[str, str]]) -> list[str]:
    """Warnings for node platforms where some image needs a newer CPU variant than all nodes have.

    Node labels carry no variant, so ``linux/arm/v7`` can only be pinned as ``arch=arm``, which
    also admits ``arm/v6`` nodes. ``per_image`` holds each image's platforms; the result names
    the node platform, what the images need, and what nodes of that architecture may be.
    """
    warnings = []
    images = [frozenset(ps) for ps in per_image]
    for os, arch in sorted(set(nodes)):
        baseline = BASELINE_VARIANT.get(arch)
        if baseline is None:
            continue
        needed = baseline
        for platforms in images:
            variants = [p.variant for p in platforms if p.node == (os, arch)]
            if not variants:
                continue
            weakest = min(variants, key=lambda v: _variant_rank(arch, v))
            if _variant_rank(arch, weakest) > _variant_rank(arch, needed):
                needed = weakest
        if needed != baseline:
            admits = f"{os}/{arch}/{baseline}" if baseline else f"{os}/{arch}"
            warnings.append(
                f"images need {os}/{arch}/{needed} or newer, but nodes carry no variant label: "
                f"pinned to kubernetes.io/arch={arch}, which also admits {admits} nodes"
            )
    return warnings


def matches(wanted: Platform, offered: Platform, allow_variant_fallback: bool = False) -> bool:
    """Whether an image built for ``offered`` satisfies a request for ``wanted`` (both
    normalised), as containerd matches: same OS and architecture, and the same variant; with
    ``allow_variant_fallback``, an earlier variant too (``arm/v7`` accepts ``arm/v6``, never
    ``arm/v8``). ``os.version`` is not compared."""
    if (wanted.os, wanted.architecture) != (offered.os, offered.architecture):
        return False
    if wanted.variant == offered.variant:
        return True
    if not allow_variant_fallback:
        return False
    order = VARIANT_ORDER.get(wanted.architecture)
    if order is None or wanted.variant not in order or offered.variant not in order:
        return False
    return order.index(offered.variant) <= order.index(wanted.variant)
