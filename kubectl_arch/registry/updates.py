"""Newer tags that add a platform: "supported with update" for ``audit --target``.

For an image that lacks a target platform, the repository's tags are listed (paged:
:meth:`.client.Client.list_tags`), those newer than the one in use and of its shape kept
(:func:`.tags.newer`), and at most ``limit`` of them looked up (each through the same
:class:`.images.Inspector` as every other look-up: cache, credentials, deadlines). The newest
is looked up first: when it lacks the platform, no older one is taken to have it. Otherwise a
binary search finds the lowest newer tag that has it, which assumes that support, once added,
is kept; whatever the limit cuts short, the tag suggested is always one that was looked up and
found to support the platform. A candidate that cannot be read (timeout, 404, 401, malformed
content) is a third answer, never "lacks it": the search goes on below it, and when the
lowest may be it (or below it, out of reach), no tag is suggested and a note names it. Images
are searched concurrently, each image's tags in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, NamedTuple

from .. import platforms as plat
from ..errors import Error
from ..platforms import Platform
from . import tags as shapes
from .images import Inspector
from .reference import ReferenceError, parse

DEFAULT_LIMIT = 8  # look-ups of candidate tags per image
MAX_WORKERS = 16


class Search(NamedTuple):
    updates: dict[tuple[str, Platform], str]  # (image, target) -> newer reference with the target
    notes: list[str]  # why some images could not be searched


def retagged(image: str, tag: str) -> str:
    """``image`` as written, with ``tag`` in place of its tag (and no digest)."""
    name = image.split("@", 1)[0]
    head, colon, tail = name.rpartition(":")
    if colon and "/" not in tail:
        name = head
    return f"{name}:{tag}"


def _supports(answer: Any, target: Platform) -> bool:
    return any(plat.matches(target, e.platform, allow_variant_fallback=True) for e in answer.platforms)


def search_one(
    inspector: Inspector, image: str, targets: Sequence[Platform], limit: int
) -> tuple[dict[Platform, str], str]:
    """The lowest newer tag of ``image`` that supports each target (targets without one are
    absent), and a note (one line, "" when none) when the image could not be searched, or
    when a candidate the search needed could not be read: a look-up that fails (timeout,
    404, 401, malformed content) is neither "has it" nor "lacks it". The search then goes
    on below the unread tag; a tag is suggested only when every candidate below it that the
    search asked about was answered, so an unread tag never makes a higher one pass for the
    lowest."""
    try:
        ref = parse(image)
    except ReferenceError:
        return {}, ""
    if not ref.tag or shapes.shape(ref.tag) is None:
        return {}, ""
    try:
        with inspector.client.budget():
            listed = inspector.client.list_tags(ref)
    except Error as exc:
        return {}, f"image {image}: newer tags not searched: {exc}"
    candidates = shapes.newer(ref.tag, listed)
    answers: dict[str, Any] = {}
    unread: dict[int, Exception] = {}  # candidate -> why it could not be read, in look-up order

    def supports(i: int, target: Platform) -> bool | None:
        """Whether candidate ``i`` supports ``target``; None when it could not be read (it is
        then in ``unread``) or the bound on look-ups is reached."""
        text = retagged(image, candidates[i])
        if text not in answers:
            if len(answers) >= limit:
                return None
            try:
                answers[text] = inspector._lookup(text, parse(text))
            except (Error, ReferenceError) as exc:
                answers[text] = exc
        answer = answers[text]
        if isinstance(answer, Exception):
            unread.setdefault(i, answer)
            return None
        return _supports(answer, target)

    found: dict[Platform, str] = {}
    incomplete: list[Platform] = []
    blocking: set[int] = set()
    for target in targets:
        if not candidates:
            continue
        newest = len(candidates) - 1
        verdict = supports(newest, target)
        if verdict is False or (verdict is None and newest not in unread):
            continue
        missed = set() if verdict else {newest}  # candidates this search asked about, unread
        high = newest if verdict else None  # the lowest candidate known to support the target
        low, bound = 0, newest  # the lowest is in [low, bound]: bound supports or was not read
        while low < bound:
            middle = (low + bound) // 2
            verdict = supports(middle, target)
            if verdict is None and middle not in unread:
                break  # the bound on look-ups
            if verdict is None:
                missed.add(middle)
                bound = middle  # the lowest may be it, or below it
            elif verdict:
                high = bound = middle
            else:
                low = middle + 1
        below = {i for i in missed if high is None or i < high}
        if below:
            incomplete.append(target)
            blocking |= below
        elif high is not None:
            found[target] = retagged(image, candidates[high])
    if not incomplete:
        return found, ""
    first = next(i for i in unread if i in blocking)
    others = [candidates[i] for i in sorted(blocking) if i != first]
    also = f" (nor could {', '.join(others)})" if others else ""
    return found, (
        f"image {image}: the search for a newer tag with {plat.format_list(incomplete)} is incomplete, "
        f"no tag is suggested: {unread[first]}{also}"
    )


def search(
    inspector: Inspector,
    blocked: Mapping[str, Sequence[Platform]],
    limit: int = DEFAULT_LIMIT,
    progress: Callable[[int, int], None] | None = None,
) -> Search:
    """Newer tags for every image of ``blocked`` (image -> the targets it lacks)."""
    updates: dict[tuple[str, Platform], str] = {}
    notes: list[str] = []
    if not blocked or limit <= 0:
        return Search(updates, notes)
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(blocked))), thread_name_prefix="tags")
    try:
        futures = {
            pool.submit(search_one, inspector, image, targets, limit): image
            for image, targets in blocked.items()
        }
        for done, future in enumerate(as_completed(futures), start=1):
            image = futures[future]
            found, note = future.result()
            for target, reference in found.items():
                updates[(image, target)] = reference
            if note:
                notes.append(note)
            if progress is not None:
                progress(done, len(futures))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return Search(updates, sorted(notes))
