from __future__ import annotations

import pytest

from kubectl_arch.platforms import Platform, PlatformError, format_list, parse, parse_list, variant_gaps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/x86_64", Platform("linux", "amd64")),
        ("Linux/AMD64", Platform("linux", "amd64")),
        ("linux/amd64/v1", Platform("linux", "amd64")),
        ("linux/amd64/v3", Platform("linux", "amd64", "v3")),
        ("linux/arm64", Platform("linux", "arm64")),
        ("linux/arm64/v8", Platform("linux", "arm64")),
        ("linux/aarch64", Platform("linux", "arm64")),
        ("linux/arm", Platform("linux", "arm", "v7")),
        ("linux/arm/7", Platform("linux", "arm", "v7")),
        ("linux/arm/v6", Platform("linux", "arm", "v6")),
        ("linux/armhf", Platform("linux", "arm", "v7")),
        ("linux/armel", Platform("linux", "arm", "v6")),
        ("linux/i386", Platform("linux", "386")),
        ("windows/amd64", Platform("windows", "amd64")),
        ("macos/arm64", Platform("darwin", "arm64")),
        (" linux/s390x ", Platform("linux", "s390x")),
    ],
)
def test_parse_normalises_like_containerd(text: str, expected: Platform) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lunix/amd64", "invalid platform 'lunix/amd64': unknown os 'lunix'; did you mean linux/amd64?"),
        (
            "linux/amd46",
            "invalid platform 'linux/amd46': unknown architecture 'amd46'; did you mean linux/amd64?",
        ),
        ("linux/arm46", "unknown architecture 'arm46'; did you mean linux/arm64?"),
        ("arm64", "invalid platform 'arm64': expected os/arch[/variant]; did you mean linux/arm64?"),
        ("linux-arm64", "did you mean linux/arm64?"),
        ("linux_amd64", "did you mean linux/amd64?"),
        ("linux/arm/v9", "unknown variant 'v9' for arm"),
        ("linux//amd64", "expected os/arch[/variant]"),
        ("linux/amd64/v2/x", "expected os/arch[/variant]"),
        ("", "empty platform"),
        ("banana/split", "unknown os 'banana'"),
    ],
)
def test_parse_rejects_with_a_suggestion(text: str, message: str) -> None:
    with pytest.raises(PlatformError) as excinfo:
        parse(text)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "linux/amd64 linux/arm64",
            "invalid platform 'linux/amd64 linux/arm64': separate platforms with commas; "
            "did you mean linux/amd64,linux/arm64?",
        ),
        (
            "linux/amd64;arm64",
            "invalid platform 'linux/amd64;arm64': separate platforms with commas; "
            "did you mean linux/amd64,linux/arm64?",
        ),
        (
            "linux/amd64 | linux-arm64\tlinux/arm/v7",
            "invalid platform 'linux/amd64 | linux-arm64\\tlinux/arm/v7': separate platforms with commas; "
            "did you mean linux/amd64,linux/arm64,linux/arm/v7?",
        ),
        ("linux/amd64 banana", "invalid platform 'linux/amd64 banana': separate platforms with commas"),
    ],
)
def test_several_platforms_in_one_entry_are_told_to_use_commas(text: str, message: str) -> None:
    with pytest.raises(PlatformError) as excinfo:
        parse_list([text])
    assert str(excinfo.value) == message


def test_parse_list_splits_commas_and_repeats_and_dedupes() -> None:
    assert parse_list(["linux/amd64,linux/arm64/v8", "linux/aarch64"]) == {
        Platform("linux", "amd64"),
        Platform("linux", "arm64"),
    }
    with pytest.raises(PlatformError, match="empty entry"):
        parse_list(["linux/amd64,"])


def test_format_is_sorted_and_canonical() -> None:
    assert format_list(parse_list(["linux/arm64,linux/amd64,linux/arm/v7"])) == (
        "linux/amd64,linux/arm/v7,linux/arm64"
    )
    assert str(Platform("linux", "arm", "v7")) == "linux/arm/v7"
    assert Platform("linux", "arm", "v7").node == ("linux", "arm")


def test_variant_gap_warns_only_when_nodes_may_be_older_than_the_images() -> None:
    v6, v7 = Platform("linux", "arm", "v6"), Platform("linux", "arm", "v7")
    assert variant_gaps([[v7]], [("linux", "arm")]) == [
        "images need linux/arm/v7 or newer, but nodes carry no variant label: pinned to "
        "kubernetes.io/arch=arm, which also admits linux/arm/v6 nodes"
    ]
    assert variant_gaps([[v6, v7]], [("linux", "arm")]) == []
    # one image with v6 and v7, another with only v7: the pod needs v7
    assert len(variant_gaps([[v6, v7], [v7]], [("linux", "arm")])) == 1
    amd64_v3 = Platform("linux", "amd64", "v3")
    assert "linux/amd64/v3" in variant_gaps([[amd64_v3]], [("linux", "amd64")])[0]
    assert variant_gaps([[Platform("linux", "arm64")]], [("linux", "arm64")]) == []
    assert variant_gaps([[v7]], []) == []
