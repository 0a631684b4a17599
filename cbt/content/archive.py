"""Unpack an uploaded course zip without trusting it.

A zip can name files outside the target folder (``../../app.py``, ``/etc/passwd``,
``C:\\x``), carry symlinks that later reads would follow, or expand a few kilobytes into
gigabytes. Every member is therefore checked *before* anything is written, and sizes are counted
again while streaming, because the sizes in the zip's headers are whatever the attacker wrote.
Extraction goes to a fresh staging folder that is renamed into place only when all went well;
on any failure it is removed, so a rejected archive leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import N_, ContentError

MiB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """Ceilings for one course archive; the defaults fit the README's media limits."""

    max_members: int = 5000
    #: The largest member: a 200 MB video plus room.
    max_member_size: int = 200 * MiB
    max_total_size: int = 1024 * MiB
    #: Uncompressed/compressed above this (for members over ``ratio_min_size``) looks like a bomb.
    max_ratio: float = 200.0
    ratio_min_size: int = 1 * MiB


@dataclass(frozen=True)
class ExtractedCourse:
    #: Folder holding course.yaml.
    root: Path
    #: True if the zip held one top-level folder (whose name the course id must match);
    #: false if the course files sat at the zip's root (load with ``check_folder_name=False``).
    named_folder: bool


_DRIVE = re.compile(r"^[a-zA-Z]:")
_CHUNK = 64 * 1024
#: What a corrupt or unsupported member raises while being read.
_EXTRACT_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    NotImplementedError,
)
#: Junk that macOS and Windows add to zips; skipped rather than rejected.
_JUNK_DIRS = ("__MACOSX",)
_JUNK_FILES = (".DS_Store", "Thumbs.db")


def _reject(archive: str, message: str, **params: object) -> ContentError:
    return ContentError.single(message, archive, **params)


def _is_junk(parts: tuple[str, ...]) -> bool:
    return parts[0] in _JUNK_DIRS or parts[-1] in _JUNK_FILES


def _check_member(info: zipfile.ZipInfo, archive: str) -> tuple[str, ...] | None:
    """The member's path parts if it is safe to extract; ``None`` for skippable junk."""
    name = info.filename
    if "\\" in name or _DRIVE.match(name):
        raise _reject(archive, N_("archive member %(name)s uses a backslash or a drive letter"), name=name)
    if name.startswith("/"):
        raise _reject(archive, N_("archive member %(name)s has an absolute path"), name=name)
    if "\x00" in name or any(ord(c) < 32 for c in name):
        raise _reject(archive, N_("archive member %(name)s has control characters in its name"), name=name)
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if ".." in parts:
        raise _reject(archive, N_("archive member %(name)s leaves the archive folder (..)"), name=name)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _reject(archive, N_("archive member %(name)s is a symbolic link"), name=name)
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and stat.S_IFMT(mode):
        raise _reject(archive, N_("archive member %(name)s is not a regular file"), name=name)
    if info.flag_bits & 0x1:
        raise _reject(archive, N_("archive member %(name)s is encrypted"), name=name)
    if not parts:
        return None
    return None if _is_junk(parts) else parts


def safe_extract_zip(
    zip_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    limits: ZipLimits | None = None,
) -> ExtractedCourse:
    """Check every member of ``zip_path``, then extract it into ``dest_dir``.

    ``dest_dir`` must not exist or be empty. Raises :class:`ContentError` (and writes nothing)
    on an unsafe or oversized archive, or one without a course.yaml at its root or in its single
    top-level folder.
    """
    limits = limits or ZipLimits()
    archive = Path(zip_path).name
    dest = Path(dest_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder")
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _reject(archive, N_("not a zip file: %(error)s"), error=str(exc)) from exc
    with zf:
        plan = _plan(zf, archive, limits)
        root_parts = _course_root(plan, archive)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".cbt-extract-", dir=dest.parent))
        try:
            _extract(zf, plan, staging, archive, limits)
            if dest.exists():
                dest.rmdir()
            staging.rename(dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    root = dest.joinpath(*root_parts)
    return ExtractedCourse(root=root, named_folder=bool(root_parts))


def _plan(
    zf: zipfile.ZipFile, archive: str, limits: ZipLimits
) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _reject(
            archive, N_("archive has %(count)s members; the limit is %(limit)s"),
            count=len(infos), limit=limits.max_members,
        )  # fmt: skip
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        parts = _check_member(info, archive)
        if parts is None:
            continue
        key = "/".join(parts).lower()
        if key in seen and not info.is_dir():
            raise _reject(archive, N_("archive member %(name)s appears twice"), name=info.filename)
        seen.add(key)
        if info.is_dir():
            plan.append((info, parts))
            continue
        if info.file_size > limits.max_member_size:
            raise _reject(
                archive, N_("archive member %(name)s is %(size)s bytes; the limit is %(limit)s"),
                name=info.filename, size=info.file_size, limit=limits.max_member_size,
            )  # fmt: skip
        total += info.file_size
        if total > limits.max_total_size:
            raise _reject(
                archive, N_("archive expands to more than %(limit)s bytes"),
                limit=limits.max_total_size,
            )  # fmt: skip
        if info.file_size > limits.ratio_min_size:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise _reject(
                    archive,
                    N_("archive member %(name)s is compressed %(ratio)s:1, which looks like a zip bomb"),
                    name=info.filename, ratio=int(ratio),
                )  # fmt: skip
        plan.append((info, parts))
    if not any(not info.is_dir() for info, _parts in plan):
        raise _reject(archive, N_("archive is empty"))
    return plan


def _course_root(plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], archive: str) -> tuple[str, ...]:
    files = [parts for info, parts in plan if not info.is_dir()]
    if ("course.yaml",) in files:
        return ()
    tops = {parts[0] for parts in files}
    if len(tops) == 1 and all(len(parts) > 1 for parts in files):
        top = next(iter(tops))
        if (top, "course.yaml") in files:
            return (top,)
    raise _reject(
        archive,
        N_("archive has no course.yaml at its root or in a single top-level folder"),
    )


def _extract(
    zf: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]],
    staging: Path,
    archive: str,
    limits: ZipLimits,
) -> None:
    total = 0
    for info, parts in plan:
        target = staging.joinpath(*parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with zf.open(info) as source, open(target, "xb") as out:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size or written > limits.max_member_size:
                        raise _reject(
                            archive,
                            N_("archive member %(name)s is larger than its header says"),
                            name=info.filename,
                        )
                    if total > limits.max_total_size:
                        raise _reject(
                            archive, N_("archive expands to more than %(limit)s bytes"),
                            limit=limits.max_total_size,
                        )  # fmt: skip
                    out.write(chunk)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            OSError,
            EOFError,
            NotImplementedError,
        ) as exc:
            raise _reject(
                archive, N_("archive member %(name)s cannot be extracted: %(error)s"),
                name=info.filename, error=str(exc),
            ) from exc  # fmt: skip
