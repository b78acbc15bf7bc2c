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


def _prepared(tmp_path: Path, name: str, old: bytes | None, new: bytes) -> files._Prepared:
    target = tmp_path / name
    if old is not None:
        target.write_bytes(old)
    temp = tmp_path / f".{name}.tmp"
    temp.write_bytes(new)
    return files._Prepared(name, str(target), str(temp))


def test_a_rename_refused_after_others_puts_the_originals_back(tmp_path: Path) -> None:
    first = _prepared(tmp_path, "a.yaml", b"a: old\n", b"a: new\n")
    new_file = _prepared(tmp_path, "n.yaml", None, b"n: new\n")
    missing = files._Prepared("b.yaml", str(tmp_path / "b.yaml"), str(tmp_path / "gone.tmp"))  # fails
    renamed: set[str] = set()
    with pytest.raises(files.WriteError, match=r"b\.yaml: cannot write"):
        files._commit([first, new_file, missing], "", {}, "pin", renamed)
    assert (tmp_path / "a.yaml").read_bytes() == b"a: old\n"
    assert not (tmp_path / "n.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]  # no original kept beside it


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("a: 1\n")
    b.write_text("b: 1\n")
    read = {s.path: s.identity for s in files.read_sources([str(a), str(b)])}
    b.write_text("b: 2 # the user's edit\n")
    with pytest.raises(files.WriteError) as caught:
        files.write_files([(str(a), [b"a: pinned\n"]), (str(b), [b"b: pinned\n"])], expected=read, verb="pin")
    assert str(caught.value) == (
        f"{b}: the file changed while pin ran (modified or replaced since it was read), so nothing was "
        "written; run it again"
    )
    assert caught.value.exit_code == 3
    assert (a.read_text(), b.read_text()) == ("a: 1\n", "b: 2 # the user's edit\n")
    os.replace(a, tmp_path / "x")  # replaced by another file of the same content
    (tmp_path / "x").rename(tmp_path / "y")
    a.write_text("a: 1\n")
    with pytest.raises(files.WriteError, match="changed while pin ran"):
        files.write_files([(str(a), [b"a: pinned\n"])], expected=read, verb="pin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml", "y"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file immutable and to change owners")
def test_renames_that_would_be_refused_are_found_before_the_first(tmp_path: Path) -> None:
    import subprocess

    a, imm = tmp_path / "a.yaml", tmp_path / "imm.yaml"
    a.write_text("a: 1\n")
    imm.write_text("i: 1\n")
    if subprocess.run(["chattr", "+i", str(imm)], capture_output=True, check=False).returncode != 0:
        pytest.skip("this file system has no immutable flag")
    try:
        with pytest.raises(
            files.WriteError, match=r"imm.yaml: cannot write: the file is immutable \(chattr \+i\)"
        ):
            files.write_files([(str(a), [b"a: 2\n"]), (str(imm), [b"i: 2\n"])])
    finally:
        subprocess.run(["chattr", "-i", str(imm)], check=True)
    assert (a.read_text(), imm.read_text()) == ("a: 1\n", "i: 1\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "imm.yaml"]


def test_a_fifo_nothing_writes_to_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pin -f FIFO`` and ``--locked FIFO`` with no writer: one line after the bounded wait."""
    import time

    from kubectl_arch import localfile

    fifo = tmp_path / "app.yaml"
    os.mkfifo(fifo)
    monkeypatch.setattr(localfile, "FIFO_WAIT", 0.3)
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        files.read_sources([str(fifo)])
    assert time.monotonic() - started < 5
    assert str(caught.value) == f"{fifo}: a FIFO nothing wrote to within 0.3s; write to it, or give a file"


def test_a_fifo_whose_writer_comes_later_is_read(tmp_path: Path) -> None:
    import threading
    import time

    fifo = tmp_path / "app.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        time.sleep(0.2)
        with open(fifo, "wb") as writer:
            writer.write(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")

    thread = threading.Thread(target=feed)
    thread.start()
    try:
        (source,) = files.read_sources([str(fifo)])
    finally:
        thread.join()
    assert source.text == "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
