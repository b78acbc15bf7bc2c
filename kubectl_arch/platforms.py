"""The platform vocabulary: parsing, normalisation, matching and node-level projection.

Everything platform-shaped is parsed here and nowhere else. Parsing follows containerd's
``platforms`` package (``linux/arm64/v8`` == ``linux/arm64``, ``aarch64`` -> ``arm64``,
``armhf`` -> ``arm/v7``, ``windows(10.0.17763)/amd64`` for a Windows OS version), except that
an OS is always required: ``arm64`` alone is rejected with a suggestion instead of silently
meaning "the OS of this machine".

Compatibility follows containerd's matchers too (its ``platforms`` tests are the reference):

* CPU variants (:func:`variant_runs`): ``arm/vN`` runs ``arm/v5`` .. ``arm/vN``; ``amd64/vN``
  runs the earlier amd64 levels; ``arm64/v8.x`` runs ``v8.0`` .. ``v8.x``, and ``arm64/v9.x``
  runs ``v9.0`` .. ``v9.x`` and the v8 levels up to the one it corresponds to (``v9.0`` ~
  ``v8.5``, ``v9.1`` ~ ``v8.6``, ... capped at ``v8.9``).
* Windows builds (:func:`windows_runs`): with process isolation a host runs an image built
  for its own build; a host of Windows Server 2022 (build 20348) or later also runs images of
  every build from the latest LTSC release before it up to its own (Windows Server 2025 runs
  ltsc2022 images; 23H2 runs ltsc2022 ones), so an ltsc2019 (17763) image runs only on
  ltsc2019 hosts.
* Unlike containerd's default matcher, never across architectures: an ``arm64`` node is not
  assumed to run ``arm`` images, nor ``amd64`` to run ``386`` ones. Whether it can depends on
  the CPU (many arm64 server CPUs have no 32-bit mode) and on the kernel (``CONFIG_COMPAT``,
  ``CONFIG_IA32_EMULATION``), which node labels do not tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

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
# The known variants of each architecture, from the least to the most capable. For arm and
# amd64 this is also the order of compatibility (an image built for an earlier variant runs on
# a later one); arm64's v9.x levels are not all above the v8.x ones (see variant_runs).
VARIANT_ORDER = {
    "arm": ("v5", "v6", "v7", "v8"),
    "arm64": (
        "", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v8.6", "v8.7", "v8.8", "v8.9",
        "v9", "v9.1", "v9.2", "v9.3", "v9.4", "v9.5", "v9.6", "v9.7",
    ),
    "amd64": ("", "v2", "v3", "v4"),
}  # fmt: skip
# The Armv8 level each Armv9 level corresponds to (Arm's architecture reference: v9.0 builds
# on v8.5, v9.1 on v8.6, ...), capped at v8.9, the last v8 level.
ARM64_V9_TO_V8 = {0: 5, 1: 6, 2: 7, 3: 8, 4: 9, 5: 9, 6: 9, 7: 9}

# Windows: the node label that carries a node's build, and the builds of Windows Server that
# Kubernetes nodes run (10.0.<build>, what the kubelet writes into the label): LTSC 2019,
# the semi-annual 1903, 1909, 2004 and 20H2, LTSC 2022, annual channel 23H2 and LTSC 2025.
WINDOWS_BUILD_LABEL = "node.kubernetes.io/windows-build"
WINDOWS_HOST_BUILDS = (
    "10.0.17763", "10.0.18362", "10.0.18363", "10.0.19041", "10.0.19042", "10.0.20348",
    "10.0.25398", "10.0.26100",
)  # fmt: skip
# Older builds that ran containers (Windows Server 2016, 1709, 1803): no Kubernetes node runs
# them today, but an open set of builds (HostBuilds) must still leave them out.
OLDER_WINDOWS_BUILDS = ("10.0.14393", "10.0.16299", "10.0.17134")
LTSC2022 = 20348
# The LTSC releases with a stable ABI, in ascending order: from Windows Server 2022 on, a host
# runs images of every build from the latest of these before its own build up to its own.
STABLE_ABI_LTSC = (20348, 26100)
# Windows platforms only: compiled on first use (re's own cache).
_WINDOWS_VERSION = r"[0-9]+\.[0-9]+\.[0-9]+(?:\.[0-9]+)?"
_OS_WITH_VERSION = r"([A-Za-z0-9_-]+)\(([A-Za-z0-9_.%+-]*)\)"
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
    def spec(self) -> str:
        """The platform with its OS version, as containerd's ``FormatAll`` writes it:
        ``windows(10.0.17763.5458)/amd64``; without one, ``str(self)``."""
        if not self.os_version:
            return str(self)
        base = f"{self.os}({self.os_version})/{self.architecture}"
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


def _os_version(raw: str, os: str, version: str) -> str:
    """A platform's OS version, checked: Windows versions are ``10.0.<build>[.<revision>]``."""
    if "%" in version or "+" in version:
        raise PlatformError(f"invalid platform {raw!r}: OS features and escapes are not supported")
    if os.lower() in ("windows", "win") and not re.fullmatch(_WINDOWS_VERSION, version):
        raise PlatformError(
            f"invalid platform {raw!r}: Windows OS version {version!r} is not of the form "
            "10.0.<build>[.<revision>], e.g. windows(10.0.17763)/amd64"
        )
    return version


def parse(text: str) -> Platform:
    """Parse ``os/arch[/variant]`` strictly, raising PlatformError with a suggestion on typos.

    An OS version may follow the OS in parentheses, as containerd writes it
    (``windows(10.0.17763)/amd64``), or end the platform after a colon, as crane does
    (``windows/amd64:10.0.17763``).
    """
    raw = text.strip()
    if not raw:
        raise PlatformError("empty platform; expected os/arch[/variant], e.g. linux/arm64")
    words = raw.replace(";", " ").replace("|", " ").split()
    if len(words) > 1:  # several platforms, not separated as --platform takes them
        fixed = [_corrected(w) for w in words]
        hint = f"; did you mean {','.join(fixed)}?" if all(fixed) else ""
        raise PlatformError(f"invalid platform {raw!r}: separate platforms with commas{hint}")
    version = ""
    body = raw
    if ":" in body:
        body, _, version = body.rpartition(":")
        if not version:
            raise PlatformError(f"invalid platform {raw!r}: empty OS version after ':'")
    head, slash, rest = body.partition("/")
    if "(" in head or ")" in head:
        match = re.fullmatch(_OS_WITH_VERSION, head)
        if match is None or version or not match[2]:
            raise PlatformError(
                f"invalid platform {raw!r}: expected os(version)/arch[/variant], "
                "e.g. windows(10.0.17763)/amd64"
            )
        head, version = match[1], match[2]
        body = head + slash + rest
    if version:
        version = _os_version(raw, head, version)
        try:
            return parse(body)._replace(os_version=version)
        except PlatformError as exc:
            raise PlatformError(str(exc).replace(repr(body), repr(raw), 1)) from None
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


def _arm64_level(variant: str) -> tuple[int, int] | None:
    """``""`` -> (8, 0), ``v8.3`` -> (8, 3), ``v9`` -> (9, 0), ``v9.6`` -> (9, 6)."""
    if not variant:
        return (8, 0)
    major, _, minor = variant.removeprefix("v").partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        return None
    return (int(major), int(minor or 0))


def _variant_rank(arch: str, variant: str) -> tuple[int, int]:
    """A sort key from the least to the most capable variant (unknown ones first)."""
    if arch == "arm64":
        return _arm64_level(variant) or (0, 0)
    order = VARIANT_ORDER.get(arch)
    if order is None or variant not in order:
        return (0, 0)
    return (order.index(variant), 0)


def variant_runs(arch: str, node: str, image: str) -> bool:
    """Whether a CPU of variant ``node`` runs an image built for variant ``image`` (both
    normalised, of architecture ``arch``), as containerd's ``platforms.Only`` orders them.

    arm64: a v8.x CPU runs v8.0 .. v8.x; a v9.x CPU runs v9.0 .. v9.x and v8.0 up to the v8
    level it corresponds to (:data:`ARM64_V9_TO_V8`). arm and amd64: every earlier variant of
    :data:`VARIANT_ORDER`. Otherwise only the same variant.
    """
    if node == image:
        return True
    if arch == "arm64":
        have, need = _arm64_level(node), _arm64_level(image)
        if have is None or need is None or have[0] not in (8, 9) or need[0] not in (8, 9):
            return False
        if have[0] == need[0]:
            return need[1] <= have[1]
        if have[0] == 9 and need[0] == 8:
            return need[1] <= ARM64_V9_TO_V8.get(have[1], -1)
        return False
    order = VARIANT_ORDER.get(arch)
    if order is None or node not in order or image not in order:
        return False
    return order.index(image) <= order.index(node)


# -- Windows builds ---------------------------------------------------------------------------


def _windows_version(text: str) -> tuple[int, int, int]:
    """(major, minor, build) of ``10.0.17763[.revision]``, as containerd reads it: a version
    it cannot read counts as (0, 0, 0)."""
    parts = text.split(".")
    if len(parts) < 3:
        return (0, 0, 0)
    limits = (255, 255, 65535)  # uint8, uint8, uint16
    numbers = []
    for part, limit in zip(parts[:3], limits, strict=True):
        if not part.isascii() or not part.isdigit() or int(part) > limit:
            return (0, 0, 0)
        numbers.append(int(part))
    return (numbers[0], numbers[1], numbers[2])


def windows_build(version: str) -> str:
    """The node label value (``node.kubernetes.io/windows-build``) of an OS version:
    ``10.0.17763.5458`` -> ``10.0.17763``; ``""`` when it is not a Windows version."""
    major, minor, build = _windows_version(version)
    return f"{major}.{minor}.{build}" if (major, minor, build) != (0, 0, 0) else ""


def windows_runs(host: str, image: str) -> bool:
    """Whether a Windows host of OS version ``host`` (``10.0.20348``, a node's
    ``node.kubernetes.io/windows-build``) runs, with process isolation, an image whose
    ``os.version`` is ``image``, by containerd's rules (``platform_windows_compat.go``):

    * either version empty: yes (nothing to compare);
    * major and minor versions must be equal;
    * a host older than Windows Server 2022 (build 20348) runs only its own build;
    * a newer host runs builds from the latest stable-ABI LTSC release before its own build
      (:data:`STABLE_ABI_LTSC`; 20348 for a 20348 host itself) up to its own build.
    """
    if not host or not image:
        return True
    have, need = _windows_version(host), _windows_version(image)
    if have[:2] != need[:2]:
        return False
    if have[2] < LTSC2022:
        return have[2] == need[2]
    earliest = LTSC2022
    for release in reversed(STABLE_ABI_LTSC):
        if have[2] > release:
            earliest = release
            break
    return earliest <= need[2] <= have[2]


def build_key(build: str) -> tuple[int, int, int, str]:
    """A sort key for builds: ``10.0.9200`` before ``10.0.17763`` (then the text)."""
    return (*_windows_version(build), build)


class HostBuilds(NamedTuple):
    """A set of Windows host builds (``node.kubernetes.io/windows-build`` values, one per node).

    Closed (``open`` False): exactly the ``listed`` builds; pinned as
    ``node.kubernetes.io/windows-build In [...]``. Open: every build but the ``listed`` ones,
    builds not known today included; pinned as ``NotIn [...]`` plus ``Exists`` (a node without
    the label has an unknown build and runs no image that names one).

    Open sets are how "this build or any later one" reaches the scheduler, which cannot
    compare builds (``10.0.26100`` is no integer for ``Gt``): containerd runs an image of the
    latest stable-ABI LTSC release, or a later build, on every later host
    (:func:`windows_runs`), so its hosts cannot be listed.
    """

    listed: frozenset[str] = frozenset()
    open: bool = False

    def admits(self, build: str) -> bool:
        return (build in self.listed) != self.open

    @property
    def empty(self) -> bool:
        return not self.open and not self.listed

    def intersect(self, other: HostBuilds) -> HostBuilds:
        if self.open and other.open:
            return HostBuilds(self.listed | other.listed, True)
        if not self.open and not other.open:
            return HostBuilds(self.listed & other.listed)
        closed, opened = (other, self) if self.open else (self, other)
        return HostBuilds(frozenset(b for b in closed.listed if opened.admits(b)))

    def within(self, other: HostBuilds) -> bool:
        """Whether every build this set admits, ``other`` admits too."""
        if self.open:
            return other.open and other.listed <= self.listed
        return all(other.admits(b) for b in self.listed)

    def shown(self) -> list[str]:
        """For messages: the builds, ``10.0.26100 or later`` closing an open set (the known
        builds it admits, from :data:`WINDOWS_HOST_BUILDS` and those it names)."""
        if not self.open:
            return sorted(self.listed, key=build_key)
        known = sorted((b for b in WINDOWS_HOST_BUILDS if self.admits(b)), key=build_key)
        if not known:
            return [f"any build but {', '.join(sorted(self.listed, key=build_key))}"]
        return [*known[:-1], f"{known[-1]} or later"]

    def expressions(self, key: str) -> list[dict[str, Any]]:
        """The requirements (``matchExpressions`` entries) on ``key`` that admit these builds."""
        values = sorted(self.listed, key=build_key)
        if not self.open:
            return [{"key": key, "operator": "In", "values": values}]
        exists: list[dict[str, Any]] = [{"key": key, "operator": "Exists"}]
        return [{"key": key, "operator": "NotIn", "values": values}, *exists] if values else exists


def runs_every_later_host(version: str) -> bool:
    """Whether, by containerd's rules as they stand, every host from this image build on runs
    it: an image of the latest stable-ABI LTSC release (:data:`STABLE_ABI_LTSC`) or later.
    An image of an earlier build stops at the next LTSC release: a host after it runs images
    from that release on."""
    major, minor, build = _windows_version(version)
    return (major, minor) == (10, 0) and build >= STABLE_ABI_LTSC[-1]


def windows_hosts(versions: Iterable[str], hosts: Iterable[str] = ()) -> HostBuilds | None:
    """The Windows host builds (label values) that run an image whose Windows entries of one
    architecture have these ``os.version`` values; ``None`` when one has none (it runs
    anywhere). Judged on :data:`WINDOWS_HOST_BUILDS`, :data:`OLDER_WINDOWS_BUILDS`, ``hosts``
    (builds seen on a cluster's nodes) and the images' own builds; open ("and every later
    build", :class:`HostBuilds`) when an entry runs on every later host
    (:func:`runs_every_later_host`), then naming the builds among those that run none."""
    wanted = list(versions)
    if any(not v for v in wanted):
        return None
    candidates = {*WINDOWS_HOST_BUILDS, *OLDER_WINDOWS_BUILDS, *hosts, *(windows_build(v) for v in wanted)}
    candidates.discard("")
    admitted = frozenset(h for h in candidates if any(windows_runs(h, v) for v in wanted))
    if any(runs_every_later_host(v) for v in wanted):
        return HostBuilds(frozenset(candidates - admitted), True)
    return HostBuilds(admitted)


def windows_builds(
    per_image: Iterable[Iterable[Platform]], platform: tuple[str, str], hosts: Iterable[str] = ()
) -> HostBuilds | None:
    """The host builds on which every image of a pod runs on the Windows node platform
    ``platform`` (os, arch): :func:`windows_hosts` of each image, intersected; ``None`` when
    no image constrains the build (or the platform is not Windows)."""
    if platform[0] != "windows":
        return None
    hosts = tuple(hosts)
    result: HostBuilds | None = None
    for platforms in per_image:
        versions = [p.os_version for p in platforms if p.node == platform]
        if not versions:
            continue
        builds = windows_hosts(versions, hosts)
        if builds is not None:
            result = builds if result is None else result.intersect(builds)
    return result


def variant_needs(
    per_image: Iterable[Iterable[Platform]], nodes: Iterable[tuple[str, str]]
) -> list[tuple[tuple[str, str], str, str]]:
    """The node platforms where some image needs a later CPU variant than every node of the
    architecture has: (platform, the variant needed, the baseline every node runs), sorted.

    No standard node label carries the CPU variant: the kubelet sets only
    ``kubernetes.io/arch`` (Node Feature Discovery's CPU feature labels, where installed,
    are features, not variants), so neither ``pin`` nor ``check`` can tell the nodes that run
    such images from those that do not. An image runs on a node of its architecture whose
    variant is at least one of its entries' (:func:`variant_runs`); the weakest entry of each
    image counts, and the most demanding image of the pod.
    """
    out = []
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
            out.append(((os, arch), needed, baseline))
    return out


def variant_gaps(per_image: Iterable[Iterable[Platform]], nodes: Iterable[tuple[str, str]]) -> list[str]:
    """``pin``'s warnings for :func:`variant_needs`: node labels carry no variant, so
    ``linux/arm/v7`` can only be pinned as ``arch=arm``, which also admits ``arm/v6`` nodes."""
    warnings = []
    for (os, arch), needed, baseline in variant_needs(per_image, nodes):
        admits = f"{os}/{arch}/{baseline}" if baseline else f"{os}/{arch}"
        warnings.append(
            f"images need {os}/{arch}/{needed} or newer, but nodes carry no variant label: "
            f"pinned to kubernetes.io/arch={arch}, which also admits {admits} nodes"
        )
    return warnings


def matches(wanted: Platform, offered: Platform, allow_variant_fallback: bool = False) -> bool:
    """Whether an image built for ``offered`` satisfies a request for ``wanted`` (both
    normalised), as containerd matches: same OS and architecture (never another architecture),
    the same variant, and for Windows an OS version the requested host build runs
    (:func:`windows_runs`). With ``allow_variant_fallback``, a variant the requested one runs
    too (:func:`variant_runs`: ``arm/v7`` accepts ``arm/v6``, never ``arm/v8``)."""
    if (wanted.os, wanted.architecture) != (offered.os, offered.architecture):
        return False
    if wanted.os == "windows" and not windows_runs(wanted.os_version, offered.os_version):
        return False
    if wanted.variant == offered.variant:
        return True
    return allow_variant_fallback and variant_runs(wanted.architecture, wanted.variant, offered.variant)
