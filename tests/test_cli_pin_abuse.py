"""Inputs and writes that survive abuse: every case is one ``error:`` line naming the file
(exit 2, or 3 where the system refused a write), never a traceback, and never a changed or
half-written file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
BIN = Path(sys.executable).parent / "kubectl-arch"
ARM = "linux/arm64"
DEPLOY = (TESTDATA / "deploy.yaml").read_bytes()
PINNED = (TESTDATA / "pinned" / "deploy.yaml").read_bytes()
BOTH = "linux/amd64,linux/arm64"
ROOT_USER = os.geteuid() == 0


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None, timeout: float = 120, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


def one_error(result: subprocess.CompletedProcess[bytes]) -> str:
    """The single stderr line of a failed run (no traceback)."""
    text = result.stderr.decode()
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- what is written must be a regular file ---------------------------------------------------


def test_in_place_refuses_to_replace_a_fifo(tmp_path: Path) -> None:
    # Refused before it is opened: no writer is needed, and none comes.
    fifo = tmp_path / "deploy.yaml"
    os.mkfifo(fifo)
    result = run("pin", "--platform", BOTH, "-f", str(fifo), "--in-place", timeout=20)
    assert result.returncode == 2
    assert one_error(result) == f"error: {fifo}: is a FIFO, not a regular file; refusing to replace it"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_lock_refuses_devices_and_directories(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
                        "    image: 127.0.0.1:1/nothing:1\n")  # fmt: skip
    (tmp_path / "dir.lock").mkdir()
    for target, kind in (("/dev/null", "a character device"), (str(tmp_path / "dir.lock"), "a directory")):
        result = run("pin", "-f", str(manifest), "--on-unknown-image", "assume:linux/arm64", "--lock", target,
                     "--request-timeout", "2s")  # fmt: skip
        assert result.returncode == 2, result.stderr
        lines = result.stderr.decode().splitlines()
        assert "Traceback" not in result.stderr.decode()
        assert lines == [f"error: --lock {target}: is {kind}, not a regular file; refusing to replace it"]
        assert result.stdout == b""
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_write_files_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    from kubectl_arch.errors import InputError
    from kubectl_arch.manifest import files

    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"--file-output .*out.json: is a FIFO, not a regular file"):
        files.write_atomic(str(fifo), b"{}", "--file-output")
    link = tmp_path / "link.json"
    link.symlink_to("/dev/null")
    with pytest.raises(InputError, match="is a character device"):
        files.write_atomic(str(link), b"{}")
    assert leftovers(tmp_path) == []
    # a symlink to a regular file is followed, and stays a link
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "to-real.json").symlink_to(real)
    files.write_atomic(str(tmp_path / "to-real.json"), b"new")
    assert real.read_text() == "new" and (tmp_path / "to-real.json").is_symlink()


# -- write failures: one line, exit 3, nothing changed, nothing left --------------------------


def _as_nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


@pytest.mark.skipif(not ROOT_USER, reason="needs root to drop to another user")
def test_permission_denied_is_one_line(tmp_path: Path) -> None:
    try:
        probe = subprocess.run(
            [str(BIN), "--version"], capture_output=True, preexec_fn=_as_nobody, check=False
        )
    except PermissionError:
        probe = None
    if probe is None or probe.returncode:
        pytest.skip("the interpreter is not reachable by another user here")
    tmp_path.chmod(0o755)
    deploy = tmp_path / "deploy.yaml"
    deploy.write_bytes(DEPLOY)
    deploy.chmod(0o644)
    result = run("pin", "--platform", BOTH, "-f", str(deploy), "--in-place", preexec_fn=_as_nobody)
    assert result.returncode == 3
    assert one_error(result) == f"error: {deploy}: cannot write: permission denied"
    assert deploy.read_bytes() == DEPLOY
    assert leftovers(tmp_path) == []


@contextlib.contextmanager
def immutable(directory: Path) -> Iterator[None]:
    if not ROOT_USER or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr to make a directory immutable")
    if subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False).returncode:
        pytest.skip("this file system has no immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=False)


def test_in_place_is_all_or_nothing(tmp_path: Path) -> None:
    first, locked = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    locked.mkdir()
    (first / "deploy.yaml").write_bytes(DEPLOY)
    (locked / "deploy.yaml").write_bytes(DEPLOY)
    with immutable(locked):
        result = run("pin", "--platform", BOTH, "-f", str(first / "deploy.yaml"), "-f",
                     str(locked / "deploy.yaml"), "--in-place")  # fmt: skip
    assert result.returncode == 3
    assert one_error(result) == f"error: {locked / 'deploy.yaml'}: cannot write: operation not permitted"
    assert (first / "deploy.yaml").read_bytes() == DEPLOY  # not rewritten: B could not be
    assert (locked / "deploy.yaml").read_bytes() == DEPLOY
    assert leftovers(first) == [] and leftovers(locked) == []


def _unshare_mount(tmp_path: Path, options: str, script: str) -> subprocess.CompletedProcess[bytes]:
    if not ROOT_USER or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small file system")
    mount = tmp_path / "mnt"
    mount.mkdir(exist_ok=True)
    probe = subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
                           capture_output=True, check=False)  # fmt: skip
    if probe.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.decode().strip()}")
    command = f"mount -t tmpfs -o {options} tmpfs {mount} && cd {mount} && {script}"
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", command], capture_output=True, timeout=120, check=False
    )


def test_no_space_left_is_one_line(tmp_path: Path) -> None:
    # The file fits; its pinned copy does not.
    size = 24 * 1024
    big = DEPLOY + b"---\n" + b"# " + b"x" * (size - len(DEPLOY) - 2048) + b"\n"
    (tmp_path / "big.yaml").write_bytes(big)
    script = (
        f"cp {tmp_path / 'big.yaml'} big.yaml && {BIN} pin --platform {BOTH} -f big.yaml --in-place; "
        "echo rc=$?; cmp -s big.yaml " + str(tmp_path / "big.yaml") + " && echo same; ls -a"
    )
    result = _unshare_mount(tmp_path, f"size={size + 4096}", script)
    out = result.stdout.decode()
    assert "rc=3" in out and "same" in out, (out, result.stderr)
    assert result.stderr.decode().splitlines() == ["error: big.yaml: cannot write: no space left on device"]
    assert ".tmp" not in out


def test_read_only_file_system_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_bytes(DEPLOY)
    script = (
        f"cp {tmp_path / 'deploy.yaml'} deploy.yaml && mount -o remount,ro . && "
        f"{BIN} pin --platform {BOTH} -f deploy.yaml --in-place; echo rc=$?"
    )
    result = _unshare_mount(tmp_path, "size=1m", script)
    assert "rc=3" in result.stdout.decode(), result.stderr
    assert result.stderr.decode().splitlines() == ["error: deploy.yaml: cannot write: read-only file system"]


def test_file_size_limit_is_one_line(tmp_path: Path) -> None:
    import resource

    deploy = tmp_path / "deploy.yaml"
    deploy.write_bytes(DEPLOY)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(DEPLOY) + 10, len(DEPLOY) + 10))

    result = run("pin", "--platform", BOTH, "-f", str(deploy), "--in-place", preexec_fn=limit)
    assert result.returncode == 3
    assert one_error(result) == f"error: {deploy}: cannot write: file too large (the file size limit)"
    assert deploy.read_bytes() == DEPLOY
    assert leftovers(tmp_path) == []


# -- rewriting keeps owner, group, mode and extended attributes -----------------------------------


def _acl(user_id: int) -> bytes:
    """A POSIX access ACL (the system.posix_acl_access xattr) granting ``user_id`` read."""
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 4, user_id), (0x04, 4, 0xFFFFFFFF), (0x10, 4, 0xFFFFFFFF),
               (0x20, 4, 0xFFFFFFFF)]  # fmt: skip
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def test_rewrite_keeps_owner_group_mode_and_xattrs(tmp_path: Path) -> None:
    deploy = tmp_path / "deploy.yaml"
    deploy.write_bytes(DEPLOY)
    deploy.chmod(0o640)
    try:
        os.setxattr(deploy, "user.origin", b"git")
        os.setxattr(deploy, "system.posix_acl_access", _acl(4321))
    except OSError as exc:
        pytest.skip(f"no extended attributes here: {exc}")
    if ROOT_USER:
        os.chown(deploy, 1234, 5678)
    before = deploy.stat()
    result = run("pin", "--platform", BOTH, "-f", str(deploy), "--in-place")
    assert result.returncode == 0, result.stderr
    assert deploy.read_bytes() == PINNED
    after = deploy.stat()
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (
        before.st_uid,
        before.st_gid,
        stat.S_IMODE(before.st_mode),
    )
    assert after.st_ino != before.st_ino  # replaced, not written over
    assert os.getxattr(deploy, "user.origin") == b"git"
    assert os.getxattr(deploy, "system.posix_acl_access") == _acl(4321)


# -- signals leave nothing behind ------------------------------------------------------------------


def test_signals_during_in_place_leave_no_temporary_file(tmp_path: Path) -> None:
    # A large file of objects pin passes over, and one workload: writing it takes a while.
    filler = b"".join(b"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  k: '%s'\n" % (i, b"v" * 4000)
                      for i in range(12000))  # fmt: skip
    source = DEPLOY + filler
    target = tmp_path / "big.yaml"
    target.write_bytes(source)
    full = run("pin", "--platform", BOTH, "-f", str(target), "--in-place")
    assert full.returncode == 0, full.stderr
    pinned = target.read_bytes()
    hit = 0
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP) * 2:
        target.write_bytes(source)
        proc = subprocess.Popen([str(BIN), "pin", "--platform", BOTH, "-f", str(target), "--in-place"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 60
        while not leftovers(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)  # until the temporary file exists: the signal lands while writing
        hit += bool(leftovers(tmp_path))
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err
        assert leftovers(tmp_path) == [], (signum, err)
        assert target.read_bytes() in (source, pinned)
        if proc.returncode not in (0,):
            assert target.read_bytes() == source
            assert proc.returncode in (-signum, 130), (signum, proc.returncode, err)
    assert hit  # at least one signal arrived while the temporary file was being written


# -- bounded streams and walks -----------------------------------------------------------------


def test_endless_inputs_are_too_large() -> None:
    result = run("pin", "--platform", ARM, "-f", "/dev/zero")
    assert result.returncode == 2
    assert one_error(result) == "error: /dev/zero: input too large (more than 268435456 bytes)"
    yes = subprocess.Popen(["yes", "a: b"], stdout=subprocess.PIPE)
    try:
        endless = subprocess.run([str(BIN), "pin", "--platform", ARM], stdin=yes.stdout, capture_output=True,
                                 timeout=120, check=False)  # fmt: skip
    finally:
        yes.kill()
        yes.wait()
    assert endless.returncode == 2
    assert one_error(endless) == "error: <stdin>: input too large (more than 268435456 bytes)"


def test_a_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_bytes(DEPLOY)
    (tmp_path / "self").symlink_to(".")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")  # never opened: only regular files are read from a walk
    result = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R")
    assert result.returncode == 0, result.stderr
    assert result.stdout == PINNED


# -- what kubectl refuses in a document -------------------------------------------------------------


def test_control_characters_are_refused_with_line_and_column(tmp_path: Path) -> None:
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"# " + b"x" * 9000 + b"\n" + DEPLOY.replace(b"name: web\n", b"name: w\x00eb\n", 1))
    esc = tmp_path / "esc.yaml"
    esc.write_bytes(DEPLOY.replace(b"name: web\n", b"name: w\x1beb\n", 1))
    for path, code in ((nul, "0000"), (esc, "001B")):
        result = run("pin", "--platform", BOTH, "-f", str(path), "--in-place")
        assert result.returncode == 2
        line = 6 if path is nul else 5
        assert one_error(result) == (
            f"error: {path} doc 1: control character U+{code} at line {line}, column 10 is not allowed in "
            "YAML; remove it"
        )
    assert esc.read_bytes() == DEPLOY.replace(b"name: web\n", b"name: w\x1beb\n", 1)


def test_noncharacters_are_refused_and_the_first_forbidden_character_is_named(tmp_path: Path) -> None:
    for name, expected in (("w\ufffeeb", "FFFE"), ("w\uffffé\x1b", "FFFF"), ("wé\x1b\ufffe", "001B")):
        path = tmp_path / f"{expected}.yaml"
        path.write_bytes(DEPLOY.replace(b"name: web\n", f"name: {name}\n".encode(), 1))
        result = run("pin", "--platform", BOTH, "-f", str(path))
        column = 10 if expected != "001B" else 11
        assert (result.returncode, one_error(result)) == (
            2,
            f"error: {path} doc 1: control character U+{expected} at line 5, column {column} is not allowed "
            "in YAML; remove it",
        )


def test_alias_bombs_and_complex_keys_in_a_workload(tmp_path: Path) -> None:
    bomb = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: bomb", "  annotations:",
            "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]  # fmt: skip
    bomb += [f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb += ["spec:", "  containers:", "  - {name: c, image: nginx}"]
    complex_key = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: odd", "spec:", "  ? [a, b]", "  : c",
                   "  containers:", "  - {name: c, image: nginx}"]  # fmt: skip
    for name, lines, message in (
        ("bomb", bomb, "Pod/bomb: document contains excessive aliasing (a YAML alias bomb?)"),
        ("odd", complex_key, "Pod/odd: mapping keys must be strings (a complex key: ? ...)"),
    ):
        path = tmp_path / f"{name}.yaml"
        path.write_text("\n".join(lines) + "\n")
        result = run("pin", "--platform", BOTH, "-f", str(path))
        assert result.returncode == 2
        assert one_error(result) == f"error: {path} doc 1 {message}"


@pytest.mark.parametrize(
    ("flag", "content", "message"),
    [
        ("--locked", '{"apiVersion": "kubectl-arch.dev/v1alpha1", "kind": "PlatformLock", "images": '
         + "[" * 100_000 + "]" * 100_000 + "}", "error: {f}: not a lock file (JSON nests too deeply)"),
        ("--images-from", '{"builds": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "error: --images-from {f}: JSON nests too deeply"),
        ("--config", "[" * 100_000 + "]" * 100_000, "error: {f}: document nests more than 400 levels deep"),
        ("--config", "{" * 100_000 + "}" * 100_000, "error: {f}: document nests more than 400 levels deep"),
    ],
)  # fmt: skip
def test_deeply_nested_side_files(tmp_path: Path, flag: str, content: str, message: str) -> None:
    side = tmp_path / "side.json"
    side.write_text(content)
    extra = () if flag == "--locked" else ("--platform", ARM)
    result = run("pin", *extra, flag, str(side), "-f", "testdata/deploy.yaml")
    assert result.returncode == 2
    assert one_error(result) == message.format(f=side)
