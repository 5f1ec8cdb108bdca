"""The records of a ZIP archive (PKWARE's APPNOTE 6.3), written here rather than by a library.

A streaming ZIP writer keeps each entry's central directory record in memory until the archive ends,
because the directory comes last and needs every entry's CRC, sizes and offset: stream-zip 0.0.84 in a
deque it offers no way around, the standard library's zipfile as a ZipInfo per file (`filelist`). The export instead
computes those records a second time, in a second pass over the notes (transfer/export.py), so it
holds none of them; that needs the records as functions of one entry, which no library offers.

Only what the export writes is supported: deflated files whose content is in memory (so the CRC and
sizes go in the local header and no data descriptor follows), UTF-8 names, a Unix mode and
modification time, and ZIP64 for the directory once it passes 65,535 entries or 4 GiB of offsets.
The tests read the archives back with the standard library's zipfile and Info-ZIP's `unzip -t`.
"""

import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_RECORD = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")
# Extended timestamp extra field: the modification time as signed 32-bit Unix time (finer than MS-DOS's 2 s).
_UNIX_TIME = struct.Struct("<HHBl")
_UNIX_TIME_ID = 0x5455
# What each time field can hold: a time outside is written as the nearest one it can (a note may be from
# any year; its exact times are in its front matter), never a struct.error halfway through a download.
_EARLIEST_DOS_TIME = datetime(1980, 1, 1, tzinfo=UTC)
_LATEST_DOS_TIME = datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)
_EARLIEST_UNIX_TIME, _LATEST_UNIX_TIME = -(2**31), 2**31 - 1
# ZIP64 extended information holding only the local header's offset (the sizes always fit: a note is
# at most a few hundred KB).
_ZIP64_OFFSET = struct.Struct("<HHQ")
_ZIP64_ID = 0x0001

_UTF8_NAMES = 0x0800  # general purpose flag bit 11
_DEFLATED = 8
_VERSION = 20  # deflate
_VERSION_ZIP64 = 45
_MADE_ON_UNIX = 3 << 8
_MAX_16 = 0xFFFF
_MAX_32 = 0xFFFFFFFF

# Deflate level 6 (zlib's default): nearly level 9's size for Markdown, at a fraction of its CPU.
_COMPRESSION_LEVEL = 6


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the archive: everything its local header and its central directory record say."""

    name: bytes  # UTF-8
    modified: datetime  # aware, any year: each time field holds the nearest time it can
    mode: int
    crc: int
    compressed_size: int
    size: int
    offset: int  # of its local header from the start of the archive

    @property
    def local_size(self) -> int:
        """Bytes of its local header and data: where the next entry starts."""
        return _LOCAL_HEADER.size + len(self.name) + _UNIX_TIME.size + self.compressed_size


def deflate(content: bytes) -> bytes:
    """Raw deflate, as ZIP stores it. The same bytes give the same output every time (one zlib, one
    level, one call), which the export's second pass relies on."""
    compressor = zlib.compressobj(_COMPRESSION_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(content) + compressor.flush()


def entry_for(*, name: str, modified: datetime, mode: int, content: bytes, offset: int) -> tuple[Entry, bytes]:
    """The entry of a file with this content at this offset, and its deflated data."""
    data = deflate(content)
    entry = Entry(
        name=name.encode(),
        modified=modified,
        mode=mode,
        crc=zlib.crc32(content),
        compressed_size=len(data),
        size=len(content),
        offset=offset,
    )
    return entry, data


def _dos_time(moment: datetime) -> tuple[int, int]:
    moment = min(max(moment.astimezone(UTC), _EARLIEST_DOS_TIME), _LATEST_DOS_TIME)
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    return time, date


def _unix_time(moment: datetime) -> bytes:
    # Flags 1: the modification time only, in the central record as in the local header.
    seconds = min(max(int(moment.timestamp()), _EARLIEST_UNIX_TIME), _LATEST_UNIX_TIME)
    return _UNIX_TIME.pack(_UNIX_TIME_ID, _UNIX_TIME.size - 4, 1, seconds)


def _file_fields(entry: Entry) -> tuple[int, ...]:
    """The fields a local header and a central directory record share, in their common order: flags,
    method, MS-DOS time and date, CRC, sizes, name length."""
    time, date = _dos_time(entry.modified)
    return _UTF8_NAMES, _DEFLATED, time, date, entry.crc, entry.compressed_size, entry.size, len(entry.name)


def local_header(entry: Entry) -> bytes:
    """What precedes the entry's data."""
    extra = _unix_time(entry.modified)
    return _LOCAL_HEADER.pack(b"PK\x03\x04", _VERSION, *_file_fields(entry), len(extra)) + entry.name + extra


def central_record(entry: Entry) -> bytes:
    """The entry's record in the central directory."""
    zip64 = entry.offset >= _MAX_32
    extra = _unix_time(entry.modified)
    if zip64:
        extra = _ZIP64_OFFSET.pack(_ZIP64_ID, _ZIP64_OFFSET.size - 4, entry.offset) + extra
    version = _VERSION_ZIP64 if zip64 else _VERSION
    record = _CENTRAL_RECORD.pack(
        b"PK\x01\x02",
        _MADE_ON_UNIX | version,
        version,
        *_file_fields(entry),
        len(extra),
        0,  # comment length
        0,  # disk number
        0,  # internal attributes
        entry.mode << 16,  # external attributes: the Unix mode in the high half
        _MAX_32 if zip64 else entry.offset,
    )
    return record + entry.name + extra


def end_records(*, count: int, directory_offset: int, directory_size: int) -> bytes:
    """What closes the archive after the central directory: the end of central directory record, preceded
    by its ZIP64 form and locator when a count or an offset does not fit the classic one."""
    directory_end = directory_offset + directory_size
    if count < _MAX_16 and directory_end < _MAX_32:
        return _END.pack(b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0)
    zip64_end = _ZIP64_END.pack(
        b"PK\x06\x06",
        _ZIP64_END.size - 12,  # the record's size, not counting its signature and this field
        _MADE_ON_UNIX | _VERSION_ZIP64,
        _VERSION_ZIP64,
        0,  # this disk
        0,  # the disk where the directory starts
        count,  # entries on this disk
        count,  # entries in all
        directory_size,
        directory_offset,
    )
    locator = _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, directory_end, 1)
    # A field of the classic record too small for its value holds all ones: "see the ZIP64 record".
    entries = min(count, _MAX_16)
    end = _END.pack(
        b"PK\x05\x06", 0, 0, entries, entries, min(directory_size, _MAX_32), min(directory_offset, _MAX_32), 0
    )
    return zip64_end + locator + end
