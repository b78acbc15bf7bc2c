#!/usr/bin/env python3
# kubectl-arch, as installed from a release archive (release/build.py fills in BUILD).
#
# Beside this script lies payload.zip: the kubectl_arch package and its dependencies,
# pure-Python ones under purelib/ and compiled ones under platlib/<tag>/ for each CPython
# version the build carries (cp311, cp312, ...). On first run the payload is unpacked into
# $XDG_CACHE_HOME/kubectl-arch/dist/<build id> (~/.cache/... by default), once per build and
# interpreter tag; later runs only check that the directories exist and import from them, with
# bytecode cached there. A plain script rather than a zipapp: running a zip costs Python runpy
# and zipimport, about 14 ms a run, which pipelines pay on every call.
#
# It runs under whatever "python3" is first on PATH, so it must at least say what is wrong on
# an old one: no syntax newer than Python 3.6 here.

import os
import sys

BUILD = {}  # filled in by release/build.py
MIN_PYTHON = (3, 11)
REEXEC_MARK = "_KUBECTL_ARCH_REEXEC"


def fail(message):
    sys.stderr.write("error: " + message + "\n")
    sys.stderr.flush()
    os._exit(2)


def payload_path():
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), "payload.zip")


def other_python():
    """KUBECTL_ARCH_PYTHON, or the newest python3.X >= 3.11 on PATH."""
    chosen = os.environ.get("KUBECTL_ARCH_PYTHON")
    if chosen:
        return chosen
    import shutil

    for minor in range(30, MIN_PYTHON[1] - 1, -1):
        found = shutil.which("python3.%d" % minor)
        if found:
            return found
    return None


def reexec(python):
    os.environ[REEXEC_MARK] = "1"
    try:
        os.execv(python, [python, sys.argv[0], *sys.argv[1:]])
    except OSError as exc:
        fail("cannot run %s: %s" % (python, exc.strerror or exc))


def check_interpreter():
    chosen = os.environ.get("KUBECTL_ARCH_PYTHON")
    if os.environ.get(REEXEC_MARK) == "1":
        os.environ.pop(REEXEC_MARK, None)
    elif chosen and os.path.realpath(chosen) != os.path.realpath(sys.executable):
        reexec(chosen)
    elif sys.version_info < MIN_PYTHON:
        python = other_python()
        if python:
            reexec(python)
    if sys.version_info < MIN_PYTHON:
        fail(
            "kubectl-arch needs Python %d.%d or newer; %s is Python %d.%d. Install a newer "
            "python3 on PATH, or point KUBECTL_ARCH_PYTHON at one."
            % (*MIN_PYTHON, sys.executable or "python3", *sys.version_info[:2])
        )


def interpreter_tag():
    """cp312, cp313t (free-threaded)...: which platlib/ directory fits this interpreter."""
    if sys.implementation.name != "cpython":
        return sys.implementation.name
    return "cp%d%d%s" % (sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", ""))


def cache_roots():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(base, "kubectl-arch", "dist")
    import tempfile

    yield os.path.join(tempfile.gettempdir(), "kubectl-arch-%d" % os.getuid(), "dist")


def unpack(root, target, prefixes):
    """Unpack the payload members under prefixes into target, atomically: into a private
    directory first, then renamed into place."""
    import shutil
    import zipfile

    os.makedirs(root, exist_ok=True)
    staging = os.path.join(root, ".unpack-%s-%d" % (BUILD["id"], os.getpid()))
    try:
        import hashlib

        with open(payload_path(), "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest()[: len(BUILD["id"])] != BUILD["id"]:
            fail("%s is not the payload of this kubectl-arch; reinstall it" % payload_path())
        import io

        payload = zipfile.ZipFile(io.BytesIO(data))
        members = [n for n in payload.namelist() if n.startswith(prefixes)]
        payload.extractall(staging, members)
        if not os.path.isdir(target):
            moves = [(staging, target)]
        else:
            moves = [(os.path.join(staging, p), os.path.join(target, p)) for p in prefixes]
        for source, destination in moves:
            destination = destination.rstrip("/")
            try:
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                os.rename(source.rstrip("/"), destination)
            except OSError:
                if not os.path.isdir(destination):  # not a concurrent run that got there first
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def payload_dir(tag):
    """The unpacked payload: purelib/, and platlib/<tag>/ when the build has one for tag."""
    platlib = ("platlib/%s/" % tag,) if tag in BUILD["pythons"] else ()
    problems = []
    for root in cache_roots():
        target = os.path.join(root, BUILD["id"])
        if os.path.isdir(target) and all(os.path.isdir(os.path.join(target, p)) for p in platlib):
            return target
        missing = platlib if os.path.isdir(target) else ("purelib/", *platlib)
        try:
            unpack(root, target, missing)
            return target
        except OSError as exc:
            if exc.filename == payload_path():
                fail("cannot read %s: %s; reinstall kubectl-arch" % (exc.filename, exc.strerror))
            problems.append("%s: %s" % (root, exc.strerror or exc))
    fail("cannot unpack kubectl-arch (%s); set XDG_CACHE_HOME to a writable directory" % "; ".join(problems))
    return ""


class MissingCompiled:
    """Meta path finder: importing a compiled dependency this build has no copy of for this
    interpreter ends the command with one clear line instead of a traceback."""

    def __init__(self, tag):
        self.tag = tag

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in BUILD["compiled"]:
            return None
        from kubectl_arch.errors import Error

        raise Error(
            "this kubectl-arch build carries %s for %s only, not for %s (%s); run it with one of "
            "those Pythons (KUBECTL_ARCH_PYTHON=python3.X) or install it with pipx"
            % (name.partition(".")[0], ", ".join(BUILD["pythons"]), self.tag, sys.executable)
        )


def main():
    check_interpreter()
    tag = interpreter_tag()
    base = payload_dir(tag)
    paths = [os.path.join(base, "purelib")]
    if tag in BUILD["pythons"]:
        paths.insert(0, os.path.join(base, "platlib", tag))
    else:
        sys.meta_path.insert(0, MissingCompiled(tag))
    # The script's own directory has nothing to import: the payload replaces it on the path.
    sys.path[0:1] = paths
    # The payload directory is this program's own: cache bytecode there even when
    # PYTHONDONTWRITEBYTECODE is set, as pip compiles an installed package.
    sys.dont_write_bytecode = False
    from kubectl_arch.cli import run

    run()


if __name__ == "__main__":
    main()
