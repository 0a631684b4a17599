"""Zip import: hostile archives are refused before anything is written."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from cbt.content import ContentError, ZipLimits, load_course, safe_extract_zip

from .kit import COURSE_ID, base_files

MiB = 1024 * 1024


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]], deflate: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return path


def course_members(prefix: str = f"{COURSE_ID}/") -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    return [
        (prefix + rel, content if isinstance(content, bytes) else content.encode())
        for rel, content in base_files().items()
    ]


def symlink_member(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def assert_rejected(tmp_path: Path, archive: Path, fragment: str, limits: ZipLimits | None = None) -> None:
    dest = tmp_path / "out" / "dest"
    with pytest.raises(ContentError) as caught:
        safe_extract_zip(archive, dest, limits)
    text = str(caught.value)
    assert fragment in text, text
    assert caught.value.problems and caught.value.problems[0].path == archive.name
    # Nothing written: no destination, no staging folder left beside it.
    assert not dest.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../evil.txt", "leaves the archive folder"),
        (f"{COURSE_ID}/../../evil.txt", "leaves the archive folder"),
        ("/etc/cron.d/evil", "has an absolute path"),
        ("..\\evil.txt", "backslash or a drive letter"),
        (f"{COURSE_ID}\\media\\x.svg", "backslash or a drive letter"),
        ("C:/Windows/evil.txt", "backslash or a drive letter"),
    ],
)
def test_bad_member_names(tmp_path: Path, name: str, fragment: str) -> None:
    archive = make_zip(tmp_path / "bad.zip", [*course_members(), (name, b"x")])
    assert_rejected(tmp_path, archive, fragment)


def test_symlink_member(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "link.zip",
        [*course_members(), (symlink_member(f"{COURSE_ID}/media/x.svg", "/etc/passwd"), b"/etc/passwd")],
    )
    assert_rejected(tmp_path, archive, "is a symbolic link")


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "bomb.zip", [*course_members(), (f"{COURSE_ID}/media/zeros.png", b"\0" * (4 * MiB))]
    )
    assert_rejected(tmp_path, archive, "looks like a zip bomb")


def test_total_size_limit(tmp_path: Path) -> None:
    members = [(f"{COURSE_ID}/media/f{i}.png", bytes(range(256)) * 40) for i in range(10)]
    archive = make_zip(tmp_path / "big.zip", [*course_members(), *members])
    assert_rejected(tmp_path, archive, "archive expands to more than", ZipLimits(max_total_size=50_000))


def test_member_size_limit(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "one.zip", [*course_members(), (f"{COURSE_ID}/media/v.mp4", b"v" * 5000)])
    assert_rejected(tmp_path, archive, "the limit is 4096", ZipLimits(max_member_size=4096))


def test_member_count_limit(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", course_members())
    assert_rejected(tmp_path, archive, "members; the limit is 3", ZipLimits(max_members=3))


def test_lying_header_is_caught_while_streaming(tmp_path: Path) -> None:
    """A central directory that understates a member's size does not get it past the limits."""
    archive = make_zip(
        tmp_path / "lie.zip", [*course_members(), (f"{COURSE_ID}/media/a.png", b"A" * 1000)], deflate=False
    )
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(f"{COURSE_ID}/media/a.png")
    # Patch the uncompressed size in the central directory entry (offset 24 from its signature).
    name = info.filename.encode()
    index = data.find(b"PK\x01\x02")
    while index != -1:
        name_len = int.from_bytes(data[index + 28 : index + 30], "little")
        if bytes(data[index + 46 : index + 46 + name_len]) == name:
            data[index + 24 : index + 28] = (10).to_bytes(4, "little")
            break
        index = data.find(b"PK\x01\x02", index + 4)
    assert index != -1
    archive.write_bytes(bytes(data))
    assert_rejected(tmp_path, archive, "cannot be extracted")


def test_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "fake.zip"
    archive.write_bytes(b"this is not a zip")
    assert_rejected(tmp_path, archive, "not a zip file")


def test_zip_without_course(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "empty.zip", [("a/readme.txt", b"hi"), ("b/readme.txt", b"hi")])
    assert_rejected(tmp_path, archive, "no course.yaml")


def test_single_top_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "ok.zip", [*course_members(), ("__MACOSX/._course.yaml", b"junk")])
    extracted = safe_extract_zip(archive, tmp_path / "dest")
    assert extracted.root == tmp_path / "dest" / COURSE_ID and extracted.named_folder
    assert not (tmp_path / "dest" / "__MACOSX").exists()
    course, problems = load_course(extracted.root)
    assert problems == [] and course is not None


def test_files_at_root(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "flat.zip", course_members(prefix=""))
    extracted = safe_extract_zip(archive, tmp_path / "dest")
    assert extracted.root == tmp_path / "dest" and not extracted.named_folder
    course, problems = load_course(extracted.root, check_folder_name=extracted.named_folder)
    assert problems == [] and course is not None


def test_dest_must_be_empty(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "ok.zip", course_members())
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old.txt").write_text("x")
    with pytest.raises(FileExistsError):
        safe_extract_zip(archive, dest)
