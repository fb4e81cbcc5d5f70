"""Where uploaded declaration materials are kept: content-addressed files, hashed while written,
each told by its bytes to be one of the formats government offices exchange."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from services.intake.domain.errors import MaterialNotAccepted

# Document formats government offices exchange: PDF/OFD (版式), Word/WPS, Excel/ET, scans, archives.
# Each suffix, the container its bytes must be (as puremagic tells it) and the Content-Type the
# file is stored and served with.
PDF, JPEG, PNG, OLE, ZIP = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/x-ole-storage",
    "application/zip",
)
OFD = "application/ofd"  # GB/T 33190: a zip holding OFD.xml
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS: dict[str, tuple[str, str]] = {
    ".pdf": (PDF, PDF),
    ".ofd": (ZIP, OFD),
    ".doc": (OLE, "application/msword"),
    ".docx": (ZIP, DOCX),
    ".wps": (OLE, "application/vnd.ms-works"),
    ".xls": (OLE, "application/vnd.ms-excel"),
    ".xlsx": (ZIP, XLSX),
    ".et": (OLE, "application/vnd.ms-excel"),
    ".jpg": (JPEG, JPEG),
    ".jpeg": (JPEG, JPEG),
    ".png": (PNG, PNG),
    ".zip": (ZIP, ZIP),
}
ACCEPTED_SUFFIXES = frozenset(FORMATS)
_ALLOWED = "PDF、OFD、Word/WPS（.doc .docx .wps）、Excel/ET（.xls .xlsx .et）、JPEG/PNG 图片或 ZIP"


class MaterialTooLarge(MaterialNotAccepted):
    code = "payload_too_large"
    title = "文件过大"


class MaterialContentRefused(MaterialNotAccepted):
    """The bytes are not a format accepted, or not the one the file's name says."""

    code = "material_content_refused"
    title = "文件内容与格式不符"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str  # told by the content, not by the client


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

    async def save(self, chunks: AsyncIterator[bytes], name: str) -> StoredFile:
        """Store the upload named `name` (checked by check_name). Too large or empty uploads, and
        content that is not the format its name says, are refused and not kept."""
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        tmp = tmp_dir / uuid.uuid4().hex
        digest, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise MaterialTooLarge(f"文件超过 {self.max_bytes / (1024 * 1024):g} MiB 的上限")
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(out.flush)
                await asyncio.to_thread(os.fsync, out.fileno())
            if size == 0:
                raise MaterialNotAccepted("上传的文件为空")
            content_type = await asyncio.to_thread(content_type_of, tmp, name)
            sha = digest.hexdigest()
            target = self.path_of(sha)
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, tmp, target)
            return StoredFile(sha, size, content_type)
        finally:
            tmp.unlink(missing_ok=True)


def content_type_of(path: Path, name: str) -> str:
    """The Content-Type of the file at `path` named `name`, told by its bytes; refused when they
    are not the format the name's suffix stands for (an HTML page named .pdf, a renamed .exe)."""
    suffix = PurePath(name).suffix.lower()
    container, content_type = FORMATS[suffix]
    found = _container(path)
    if found != container:
        raise MaterialContentRefused(
            f"{name} 的内容不是 {suffix[1:].upper()} 文件（按内容识别为 {found or '未知格式'}），"
            f"不予接收；可上传 {_ALLOWED}"
        )
    if container != ZIP:
        return content_type
    inside = _zip_kind(path)
    if suffix == ".zip":
        return ZIP  # any zip, an OFD or OOXML document among them, may be sent as an archive
    if inside != content_type:
        raise MaterialContentRefused(
            f"{name} 是 ZIP 压缩包，但其中不是 {suffix[1:].upper()} 文档的结构，不予接收；可上传 {_ALLOWED}"
        )
    return content_type


def _container(path: Path) -> str | None:
    """The format puremagic finds at the start of the file: one of ours, else its best guess.
    puremagic is imported at the first upload: its signature table is 1 MiB an idle intake does not hold."""
    import puremagic

    try:
        matches = puremagic.magic_file(path)
    except puremagic.PureError:
        return None
    mimes = {m.mime_type for m in matches}
    for ours in (PDF, JPEG, PNG, OLE, ZIP):
        if ours in mimes:
            return ours
    return matches[0].mime_type or matches[0].name if matches else None


def _zip_kind(path: Path) -> str:
    """What a zip holds: an OFD document (GB/T 33190: its entry file OFD.xml at the root), a Word or
    Excel OOXML document ([Content_Types].xml with word/ or xl/), or anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise MaterialContentRefused("ZIP 文件已损坏，无法读取其目录") from exc
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    return ZIP
