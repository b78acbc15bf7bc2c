"""Reading and writing manifest files: encodings, bounds, and writes that are all or nothing."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_arch.errors import InputError
from kubectl_arch.manifest import files


@pytest.mark.parametrize(
    ("data", "encoding", "bom"),
    [
        (b"a: \xc3\xa9\n", "utf-8", False),
        (b"\xef\xbb\xbfa: \xc3\xa9\n", "utf-8", True),
        ("\ufeffa: é\n".encode("utf-16-le"), "utf-16-le", True),
        ("\ufeffa: é\n".encode("utf-16-be"), "utf-16-be", True),
        ("\ufeffa: é\n".encode("utf-32-le"), "utf-32-le", True),
        ("\ufeffa: é\n".encode("utf-32-be"), "utf-32-be", True),
    ],
)
def test_encodings_round_trip(data: bytes, encoding: str, bom: bool) -> None:
    text, has_bom, found = files.decode_as(data, "x.yaml")
    assert (text, has_bom, found) == ("a: é\n", bom, encoding)
    source = files.Source("x.yaml", "x.yaml", text, has_bom, found)
    assert source.encode(text) == data
    assert b"".join(source.encode_pieces(["a: ", "é\n"])) == data


def test_binary_data_is_refused_but_not_wide_text() -> None:
    with pytest.raises(InputError, match="binary data"):
        files.decode_as(b"a: b\x00c\n", "x.yaml")
    with pytest.raises(InputError, match="binary data"):
        files.decode_as("\ufeffa: b\x00c\n".encode("utf-16-le"), "x.yaml")


def test_streams_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_BYTES", 1000)
    assert files.read_bounded(io.BytesIO(b"x" * 1000), "s") == b"x" * 1000
    with pytest.raises(InputError, match=r"s: input too large \(more than 1000 bytes\)"):
        files.read_bounded(io.BytesIO(b"x" * 1001), "s")
    with pytest.raises(InputError, match=r"f: input too large \(5000 bytes; at most 1000\)"):
        files.read_bounded(io.BytesIO(b""), "f", size_hint=5000)


def test_several_writes_are_all_or_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("old a")
    os.mkfifo(second)
    with pytest.raises(InputError, match="is a FIFO"):
        files.write_files([(str(first), [b"new a"]), (str(second), [b"new b"])])
    assert first.read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]

    def failing() -> Iterator[bytes]:
        yield b"new "
        raise OSError(28, "No space left on device")

    second.unlink()
    second.write_text("old b")
    with pytest.raises(files.WriteError, match=r"b.yaml: cannot write: no space left on device"):
        files.write_files([(str(first), [b"new a"]), (str(second), failing())])
    assert (first.read_text(), second.read_text()) == ("old a", "old b")
    files.write_files([(str(first), [b"new ", b"a"]), (str(second), [b"new b"])])
    assert (first.read_text(), second.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_new_file_is_0644_and_its_directory_must_exist(tmp_path: Path) -> None:
    files.write_atomic(str(tmp_path / "new.lock"), b"{}")
    assert (tmp_path / "new.lock").stat().st_mode & 0o777 == 0o644
    with pytest.raises(InputError, match="no such directory"):
        files.write_atomic(str(tmp_path / "missing" / "x.lock"), b"{}", "--lock")
