"""Where uploaded declaration materials are kept: content-addressed files, hashed while written."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path, PurePath

from services.intake.domain import MaterialNotAccepted

# Document formats government offices exchange: PDF/OFD (版式), Word/WPS, Excel/ET, scans, archives.
ACCEPTED_SUFFIXES = frozenset(
    {".pdf", ".ofd", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".jpg", ".jpeg", ".png", ".zip"}
)


class MaterialStore:
    """Files under `root/<sha[:2]>/<sha>`; the same content uploaded twice is stored once."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    @staticmethod
    def check_name(filename: str) -> str:
        name = PurePath(filename or "").name
        if not name:
            raise MaterialNotAccepted("上传文件缺少文件名")
        if PurePath(name).suffix.lower() not in ACCEPTED_SUFFIXES:
            allowed = "、".join(sorted(ACCEPTED_SUFFIXES))
            raise MaterialNotAccepted(f"不接收 {name} 这种文件格式，可上传: {allowed}")
        return name

    async def save(self, chunks: AsyncIterator[bytes]) -> tuple[str, int]:
        """Store the upload; (sha256, size). Too large or empty uploads are refused and not kept."""
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        tmp = tmp_dir / uuid.uuid4().hex
        digest, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise MaterialNotAccepted(f"文件超过 {self.max_bytes // (1024 * 1024)} MiB 的上限")
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(out.flush)
                await asyncio.to_thread(os.fsync, out.fileno())
            if size == 0:
                raise MaterialNotAccepted("上传的文件为空")
            sha = digest.hexdigest()
            target = self.path_of(sha)
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, tmp, target)
            return sha, size
        finally:
            tmp.unlink(missing_ok=True)
