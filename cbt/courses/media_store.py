"""Content-addressed storage for course media: ``<root>/<sha[:2]>/<sha>``.

Files are immutable and named by their SHA-256, so two course versions that share a picture store it once,
a published version's media can never change under it, and serving can use the hash as a strong ETag.
On a central server with several hosts, ``CBT_MEDIA_PATH`` must point at shared storage.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class MediaStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy ``source`` into the store (atomically) and return its hash and size."""
        digest = hashlib.sha256()
        size = 0
        self.root.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as src, tempfile.NamedTemporaryFile(dir=self.root, delete=False) as tmp:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        sha = digest.hexdigest()
        target = self.path_for(sha)
        if target.exists():
            os.unlink(tmp.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp.name, target)
        return sha, size

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def media_store() -> MediaStore:
    root = current_app.config.get("MEDIA_PATH") or os.path.join(current_app.instance_path, "media")
    return MediaStore(root)
