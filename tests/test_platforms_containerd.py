"""The platform rules held to containerd's: cases of the ``platforms`` package's tests
(github.com/containerd/platforms: ``platforms_test.go``, ``compare_test.go``,
``platform_windows_compat_test.go``), restated as tables of our own. Each case names the
test it comes from. Where this project deliberately differs (no fallback to another
architecture), the case states our answer and the test below says why.
"""

from __future__ import annotations

import pytest

from kubectl_arch.platforms import (
    Platform,
    PlatformError,
    matches,
    normalize,
    parse,
    windows_build,
    windows_builds,
    windows_hosts,
    windows_runs,
)


def p(text: str) -> Platform:
    """A platform as an image or a request spells it, normalised without our stricter checks
    (containerd's tables name variants such as arm/v4 that ``parse`` rejects as unknown)."""
    version = ""
    if "(" in text:
        head, _, rest = text.partition("(")
        version, _, rest = rest.partition(")")
        text = head + rest
    parts = text.split("/")
    return normalize(parts[0], parts[1], parts[2] if len(parts) > 2 else "", version)


# -- parsing and normalising ------------------------------------------------------------------

PARSED = [
    # TestParseSelector "linux/arm64" and the forms it matches (aarch64, arm64/v8)
    ("linux/arm64", Platform("linux", "arm64"), "linux/arm64"),
    ("linux/aarch64", Platform("linux", "arm64"), "linux/arm64"),
    ("linux/aarch64/v8", Platform("linux", "arm64"), "linux/arm64"),
    # TestParseSelector "linux/arm64/v8": v8 is the arm64 baseline, written without a variant
    ("linux/arm64/v8", Platform("linux", "arm64"), "linux/arm64"),
    # TestParseSelector "linux/arm": the common 32-bit arm is v7 (armhf, arm/7)
    ("linux/arm", Platform("linux", "arm", "v7"), "linux/arm/v7"),
    ("linux/armhf", Platform("linux", "arm", "v7"), "linux/arm/v7"),
    ("linux/arm/7", Platform("linux", "arm", "v7"), "linux/arm/v7"),
    # TestParseSelector "linux/arm/v6" matches armel
    ("linux/arm/v6", Platform("linux", "arm", "v6"), "linux/arm/v6"),
    ("linux/armel", Platform("linux", "arm", "v6"), "linux/arm/v6"),
    # TestParseSelector "Linux/x86_64", "i386", "linux/s390x", "macOS"
    ("Linux/x86_64", Platform("linux", "amd64"), "linux/amd64"),
    ("linux/i386", Platform("linux", "386"), "linux/386"),
    ("linux/s390x", Platform("linux", "s390x"), "linux/s390x"),
    ("macOS/arm64", Platform("darwin", "arm64"), "darwin/arm64"),
    # TestParseSelector "windows(10.0.17763)": an OS version in parentheses, kept by FormatAll
    ("windows(10.0.17763)/amd64", Platform("windows", "amd64", "", "10.0.17763"), "windows(10.0.17763)/amd64"),
    # the same, as crane spells it (os/arch:osversion)
    ("windows/amd64:10.0.17763.5458", Platform("windows", "amd64", "", "10.0.17763.5458"), "windows(10.0.17763.5458)/amd64"),
    # TestOnly "linux/arm64/v9.6": the newest arm64 levels are known
    ("linux/arm64/v9.6", Platform("linux", "arm64", "v9.6"), "linux/arm64/v9.6"),
    ("linux/arm64/v9.7", Platform("linux", "arm64", "v9.7"), "linux/arm64/v9.7"),
    # normalizeArch: 9, 9.0 and v9.0 are v9
    ("linux/arm64/v9.0", Platform("linux", "arm64", "v9"), "linux/arm64/v9"),
    ("linux/arm64/9", Platform("linux", "arm64", "v9"), "linux/arm64/v9"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "platform", "formatted"), PARSED, ids=[c[0] for c in PARSED])
def test_parse_and_format_like_containerd(text: str, platform: Platform, formatted: str) -> None:
    assert parse(text) == platform
    assert platform.spec == formatted
    assert parse(formatted) == platform  # TestParseSelector: the formatted form parses back


@pytest.mark.parametrize(
    "text",
    [
        "",  # TestParseSelectorInvalid: empty
        "/linux/arm",  # TestParseSelectorInvalid: leading slash
        "linux/arm/",  # TestParseSelectorInvalid: trailing slash
        "linux /arm",  # TestParseSelectorInvalid: spaces
        "linux/&arm",  # TestParseSelectorInvalid: invalid character
        "linux/arm/foo/bar",  # TestParseSelectorInvalid: too many components
        "windows(10.0.17763+win32k)/amd64",  # TestParseSelector "windows(10.0.17763+win32k)": OS features, not modelled here
        "windows(50%25done)/amd64",  # TestParseSelector "windows(50%25done)": escapes; not a Windows version
        "linux/arm64/v8.10",  # TestOnly "linux/arm64/v9.6": "there's no v8.10"
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(PlatformError):
        parse(text)


def test_an_os_is_required_unlike_containerd() -> None:
    """TestParseSelector "arm", "armel", "x86_64", "linux", "windows": containerd fills the
    missing part in from the machine it runs on. A manifest pinned on a laptop must not depend
    on the laptop, so a platform without an OS is refused with a suggestion."""
    for text, hint in (("armel", "linux/arm/v6"), ("x86_64", "linux/amd64"), ("Aarch64", "linux/arm64")):
        with pytest.raises(PlatformError, match=f"did you mean {hint}"):
            parse(text)


# -- matching: Only (variant fallback) and OnlyStrict ------------------------------------------

# (requested platform, image platform, OnlyStrict answer, Only answer)
MATCHES = [
    # TestOnly / TestOnlyStrict "linux/amd64"
    ("linux/amd64", "linux/amd64", True, True),
    ("linux/amd64", "linux/amd64/v2", False, False),
    ("linux/amd64", "linux/arm/v7", False, False),
    ("linux/amd64", "linux/arm64", False, False),
    ("linux/amd64", "windows/amd64", False, False),
    # TestOnly "linux/amd64/v2": earlier levels only
    ("linux/amd64/v2", "linux/amd64", False, True),
    ("linux/amd64/v2", "linux/amd64/v1", False, True),
    ("linux/amd64/v2", "linux/amd64/v2", True, True),
    ("linux/amd64/v2", "linux/amd64/v3", False, False),
    ("linux/amd64/v2", "linux/amd64/v4", False, False),
    # TestOnly / TestOnlyStrict "linux/386"
    ("linux/386", "linux/386", True, True),
    ("linux/386", "linux/amd64", False, False),
    # TestOnly / TestOnlyStrict "windows/amd64": an image's OS version does not matter to a
    # request without one
    ("windows/amd64", "windows/amd64", True, True),
    ("windows/amd64", "windows(10.0.17763)/amd64", True, True),
    ("windows/amd64", "linux/amd64", False, False),
    ("windows/amd64", "windows/arm", False, False),
    # TestOnlyStrict "windows(10.0.17763)/amd64": an image without a version matches, one of
    # the same build too
    ("windows(10.0.17763)/amd64", "windows/amd64", True, True),
    ("windows(10.0.17763)/amd64", "windows(10.0.17763)/amd64", True, True),
    ("windows(10.0.17763)/amd64", "linux/amd64", False, False),
    # TestOnly "linux/arm/v8": arm/v5 .. v8, never v4
    ("linux/arm/v8", "linux/arm", False, True),
    ("linux/arm/v8", "linux/arm/v5", False, True),
    ("linux/arm/v8", "linux/arm/v6", False, True),
    ("linux/arm/v8", "linux/arm/v7", False, True),
    ("linux/arm/v8", "linux/arm/v8", True, True),
    ("linux/arm/v8", "linux/arm/v4", False, False),
    ("linux/arm/v8", "linux/arm64", False, False),
    # TestOnly "linux/arm/v7" (and TestOnlyStrict: arm is arm/v7)
    ("linux/arm/v7", "linux/arm", True, True),
    ("linux/arm/v7", "linux/arm/v5", False, True),
    ("linux/arm/v7", "linux/arm/v6", False, True),
    ("linux/arm/v7", "linux/arm/v7", True, True),
    ("linux/arm/v7", "linux/arm/v8", False, False),
    ("linux/arm/v7", "linux/arm/v4", False, False),
    # TestOnly "linux/arm/v6"
    ("linux/arm/v6", "linux/arm/v5", False, True),
    ("linux/arm/v6", "linux/arm/v6", True, True),
    ("linux/arm/v6", "linux/arm", False, False),
    ("linux/arm/v6", "linux/arm/v7", False, False),
    # TestOnly "linux/arm/v5"
    ("linux/arm/v5", "linux/arm/v5", True, True),
    ("linux/arm/v5", "linux/arm/v6", False, False),
    # TestOnly "linux/arm64/v9.6": v9.0 .. v9.6 and every v8 level
    ("linux/arm64/v9.6", "linux/arm64", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v8", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v8.9", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v9", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v9.0", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v9.5", False, True),
    ("linux/arm64/v9.6", "linux/arm64/v9.6", True, True),
    ("linux/arm64/v9.6", "linux/arm64/v9.7", False, False),
    # TestOnly "linux/arm64/v9": v9.0 is v8.5's equivalent, so v8.6 is out
    ("linux/arm64/v9", "linux/arm64", False, True),
    ("linux/arm64/v9", "linux/arm64/v8.5", False, True),
    ("linux/arm64/v9", "linux/arm64/v9.0", True, True),
    ("linux/arm64/v9", "linux/arm64/v8.6", False, False),
    ("linux/arm64/v9", "linux/arm64/v9.1", False, False),
    # TestOnly "linux/arm64/v8.1"
    ("linux/arm64/v8.1", "linux/arm64", False, True),
    ("linux/arm64/v8.1", "linux/arm64/v8", False, True),
    ("linux/arm64/v8.1", "linux/arm64/v8.1", True, True),
    ("linux/arm64/v8.1", "linux/arm64/v8.2", False, False),
    ("linux/arm64/v8.1", "linux/arm64/v9", False, False),
    # TestOnly "linux/arm64": only the baseline
    ("linux/arm64", "linux/arm64", True, True),
    ("linux/arm64", "linux/arm64/v8", True, True),
    ("linux/arm64", "linux/arm64/v8.1", False, False),
    ("linux/arm64", "linux/arm64/v9", False, False),
    ("linux/arm64", "windows/arm64", False, False),
    # TestOnlyStrict "linux/arm64/v9.5": exactly v9.5
    ("linux/arm64/v9.5", "linux/arm64/v9.5", True, True),
    ("linux/arm64/v9.5", "linux/arm64/v9.4", False, True),
    ("linux/arm64/v9.5", "linux/arm64/v8.9", False, True),
    # compare.go arm64variantToVersion: v9.1 ~ v8.6, v9.3 ~ v8.8, v9.4 and later ~ v8.9
    ("linux/arm64/v9.1", "linux/arm64/v8.6", False, True),
    ("linux/arm64/v9.1", "linux/arm64/v8.7", False, False),
    ("linux/arm64/v9.3", "linux/arm64/v8.8", False, True),
    ("linux/arm64/v9.3", "linux/arm64/v8.9", False, False),
    ("linux/arm64/v9.4", "linux/arm64/v8.9", False, True),
    ("linux/arm64/v9.7", "linux/arm64/v8.9", False, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("wanted", "offered", "strict", "only"), MATCHES, ids=[f"{c[0]}<-{c[1]}" for c in MATCHES]
)
def test_matching_like_containerd(wanted: str, offered: str, strict: bool, only: bool) -> None:
    assert matches(p(wanted), p(offered)) is strict
    assert matches(p(wanted), p(offered), allow_variant_fallback=True) is only


@pytest.mark.parametrize(
    ("wanted", "offered"),
    [
        ("linux/amd64", "linux/386"),  # TestOnly "linux/amd64": containerd says true
        ("linux/amd64/v2", "linux/386"),  # TestOnly "linux/amd64/v2": containerd says true
        ("linux/arm64", "linux/arm/v7"),  # TestOnly "linux/arm64": containerd says true
        ("linux/arm64/v9.6", "linux/arm/v8"),  # TestOnly "linux/arm64/v9.6": containerd says true
        ("linux/arm64/v8.1", "linux/arm/v5"),  # TestOnly "linux/arm64/v8.1": containerd says true
    ],
)
def test_no_fallback_to_another_architecture(wanted: str, offered: str) -> None:
    """Deliberately unlike containerd's ``Only``: a node of one architecture is never taken
    to run images of another. An arm64 CPU may have no 32-bit mode at all (Neoverse V1/N2,
    Apple M1, AWS Graviton 3 and later run AArch64 only), an amd64 kernel may be built without
    IA-32 emulation, and node labels say neither; placing a pod on such a node would fail with
    ``exec format error``, the very thing this project exists to prevent."""
    assert not matches(p(wanted), p(offered), allow_variant_fallback=True)
    assert not matches(p(wanted), p(offered))


# -- Windows builds ---------------------------------------------------------------------------

LTSC2019, LTSC2022, WIN11_22H2, V23H2, LTSC2025 = 17763, 20348, 22621, 25398, 26100

# (host build, image build, runs): Test_PlatformCompat, one case each
WINDOWS = [
    (LTSC2019, LTSC2019, True),
    (LTSC2019, LTSC2022, False),
    (LTSC2022, LTSC2019, False),
    (LTSC2022, LTSC2022, True),
    (WIN11_22H2, LTSC2019, False),
    (WIN11_22H2, LTSC2022, True),
    (V23H2, LTSC2019, False),
    (V23H2, LTSC2022, True),
    (LTSC2025, LTSC2022, True),
    (LTSC2022, LTSC2025, False),
    (LTSC2022, WIN11_22H2, False),
    (LTSC2025, WIN11_22H2, True),
]


@pytest.mark.parametrize(("host", "image", "runs"), WINDOWS, ids=[f"host{h}-image{i}" for h, i, _ in WINDOWS])
def test_windows_host_and_image_builds(host: int, image: int, runs: bool) -> None:
    # Test_PlatformCompat: host and container versions 10.0.<build>
    assert windows_runs(f"10.0.{host}", f"10.0.{image}") is runs
    # a node label against an image's os.version with its revision
    assert windows_runs(f"10.0.{host}", f"10.0.{image}.3091") is runs


def test_windows_versions_as_containerd_reads_them() -> None:
    # windowsVersionMatcher.Match: nothing to compare when either side has no version
    assert windows_runs("", "10.0.17763.1")
    assert windows_runs("10.0.20348", "")
    # checkWindowsHostAndContainerCompat: major and minor versions must be equal
    assert not windows_runs("10.0.17763", "6.3.17763")
    # getWindowsOSVersion: an unreadable version counts as 0.0.0
    assert not windows_runs("10.0.17763", "banana")
    assert windows_build("10.0.17763.5458") == "10.0.17763"
    assert windows_build("banana") == ""


def test_windows_hosts_of_an_image() -> None:
    """The node builds an image's os.version values run on: what pin writes into
    ``node.kubernetes.io/windows-build In [...]``."""
    assert windows_hosts(["10.0.17763.5458"]) == {"10.0.17763"}
    assert windows_hosts(["10.0.20348.3091"]) == {"10.0.20348", "10.0.25398", "10.0.26100"}
    assert windows_hosts(["10.0.26100.2894"]) == {"10.0.26100"}
    assert windows_hosts(["10.0.17763.1", "10.0.20348.1"]) == {
        "10.0.17763", "10.0.20348", "10.0.25398", "10.0.26100",
    }  # fmt: skip
    # a build seen on a cluster and newer than every known one: after ltsc2025, only 2025 on
    assert windows_hosts(["10.0.20348.1"], ["10.0.29000"]) == {"10.0.20348", "10.0.25398", "10.0.26100"}
    assert windows_hosts(["10.0.26100.1"], ["10.0.29000"]) == {"10.0.26100", "10.0.29000"}
    # an entry without os.version runs anywhere
    assert windows_hosts(["10.0.17763.1", ""]) is None


def test_windows_builds_are_intersected_across_a_pods_images() -> None:
    win = ("windows", "amd64")
    ltsc2019 = [Platform("windows", "amd64", "", "10.0.17763.1"), Platform("linux", "amd64")]
    both = [
        Platform("windows", "amd64", "", "10.0.17763.1"),
        Platform("windows", "amd64", "", "10.0.20348.1"),
    ]
    ltsc2022 = [Platform("windows", "amd64", "", "10.0.20348.1")]
    assert windows_builds([ltsc2019, both], win) == {"10.0.17763"}
    assert windows_builds([ltsc2019, ltsc2022], win) == frozenset()
    assert windows_builds([[Platform("windows", "amd64")], ltsc2022], win) == {
        "10.0.20348", "10.0.25398", "10.0.26100",
    }  # fmt: skip
    assert windows_builds([ltsc2019], ("linux", "amd64")) is None
    assert windows_builds([[Platform("linux", "amd64")]], win) is None
