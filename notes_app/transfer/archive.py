"""Reading an uploaded archive without trusting it.

The body is already bounded by MAX_IMPORT_BYTES. Inside it: at most `MAX_ENTRIES` entries, and at most
`MAX_INFLATED_BYTES` inflated, counted as the bytes come out of the decompressor (never the sizes the
archive declares, which a zip bomb lies about; a declared total over the limit is refused before
anything is inflated). Entry names are only strings here: nothing is ever written to disk.
CPU-bound: call it in a worker thread.
"""

import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass, field

from notes_app.errors import ProblemError
from notes_app.transfer.frontmatter import is_note_file

MAX_ENTRIES = 10_000
MAX_INFLATED_BYTES = 200 * 1024 * 1024
# A note's body is at most 100,000 characters (400,000 bytes of UTF-8); with generous front matter a
# note's file is well under this. A larger file cannot be a valid note: refused without inflating more.
MAX_NOTE_FILE_BYTES = 1024 * 1024
_READ_SIZE = 64 * 1024
_ENCRYPTED = 0x1  # general purpose bit flag 0


class ArchiveTooLarge(ProblemError):
    status = 413


class UnreadableArchive(ProblemError):
    """Corrupt, encrypted, or not a ZIP at all."""

    status = 422


@dataclass(frozen=True)
class UploadedFile:
    name: str
    data: bytes


@dataclass
class ArchiveContents:
    files: list[UploadedFile] = field(default_factory=list)  # the note files, in archive order
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    oversized: list[str] = field(default_factory=list)  # note files over MAX_NOTE_FILE_BYTES


def _holds_a_note(entry: zipfile.ZipInfo) -> bool:
    # `__MACOSX/._name.md`: the resource forks macOS's Finder adds to archives it makes, not notes.
    return not entry.is_dir() and is_note_file(entry.filename) and not entry.filename.startswith("__MACOSX/")


def _skip_reason(entry: zipfile.ZipInfo) -> str:
    if entry.filename.startswith("__MACOSX/"):
        return "macOS metadata, not a note"
    return "not a .md, .markdown or .txt file"


def _declared_entries(data: bytes) -> int:
    """The entry count in the archive's end record, read before zipfile parses the central directory:
    50 MiB of empty entries is most of a million, each parsed into an object. `_EndRecData` is private
    but has read the end record (and its ZIP64 form) unchanged for many Python versions."""
    try:
        end_record = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return 0  # unreadable: ZipFile says so below
    return int(end_record[zipfile._ECD_ENTRIES_TOTAL]) if end_record else 0  # type: ignore[attr-defined]


def read_archive(
    data: bytes, *, max_entries: int = MAX_ENTRIES, max_inflated_bytes: int = MAX_INFLATED_BYTES
) -> ArchiveContents:
    declared_entries = _declared_entries(data)
    if declared_entries > max_entries:
        raise ArchiveTooLarge(f"the archive has {declared_entries} entries: at most {max_entries} are allowed")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UnreadableArchive("the body is not a readable ZIP archive") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > max_entries:  # the end record said otherwise: counted again, as read
            raise ArchiveTooLarge(f"the archive has {len(entries)} entries: at most {max_entries} are allowed")
        if any(entry.flag_bits & _ENCRYPTED for entry in entries):
            raise UnreadableArchive("the archive is encrypted: export it again without a password")
        wanted = [entry for entry in entries if _holds_a_note(entry)]
        # What the archive claims first: an honest zip bomb is refused before a byte is inflated.
        if sum(entry.file_size for entry in wanted) > max_inflated_bytes:
            raise ArchiveTooLarge(f"the archive inflates to more than {max_inflated_bytes} bytes")
        contents = ArchiveContents()
        inflated = 0
        for entry in entries:
            if entry.is_dir():
                continue
            if not _holds_a_note(entry):
                contents.skipped.append((entry.filename, _skip_reason(entry)))
                continue
            chunks: list[bytes] = []
            size = 0
            try:
                with archive.open(entry) as member:
                    while chunk := member.read(_READ_SIZE):
                        size += len(chunk)
                        inflated += len(chunk)
                        if inflated > max_inflated_bytes:
                            raise ArchiveTooLarge(f"the archive inflates to more than {max_inflated_bytes} bytes")
                        if size > MAX_NOTE_FILE_BYTES:
                            break
                        chunks.append(chunk)
            except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, NotImplementedError):
                # A bad CRC, a truncated or garbled stream, an unsupported compression method.
                raise UnreadableArchive(
                    f"{entry.filename}: the archive is corrupt or uses an unsupported method"
                ) from None
            if size > MAX_NOTE_FILE_BYTES:
                contents.oversized.append(entry.filename)
            else:
                contents.files.append(UploadedFile(entry.filename, b"".join(chunks)))
        return contents
