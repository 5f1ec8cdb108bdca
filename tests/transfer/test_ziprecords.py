"""The export's own ZIP records, read back by other ZIP readers: small archives, ZIP64 ones, and the
memory the writing takes, which must not grow with the number of notes."""

import io
import shutil
import subprocess
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import notes_app.transfer.export as export
from notes_app.transfer.ziprecords import Entry, central_record, end_records, entry_for, local_header

_MOMENT = datetime(2026, 11, 24, 23, 40, 7, tzinfo=UTC)


Reader = Callable[[export.Position], list[export.Row]]


def _notes(count: int, *, body: Callable[[int], str] = lambda n: f"body of note {n}\r\n😀") -> Reader:
    """A reader of `count` synthetic live notes for export._archive, in keyset batches like read_batch's.
    Titles repeat every 1,000 notes, so names collide and take ids."""

    def row(n: int) -> export.Row:
        return {
            "id": n + 1,
            "title": f"note {n % 1000}",
            "body": body(n),
            "tags": ["a", "b/c"],
            "pinned": n % 2 == 0,
            "archived": False,
            "created_at": _MOMENT,
            "updated_at": _MOMENT,
        }

    def read(position: export.Position) -> list[export.Row]:
        archived, after = position
        start = 0 if after is None else after.id  # ids are n + 1: the note after id k is n = k
        return [] if archived else [row(n) for n in range(start, min(count, start + export.EXPORT_BATCH + 1))]

    return read


def _archive(count: int, **kwargs: Callable[[int], str]) -> bytes:
    read = _notes(count, **kwargs)
    return b"".join(export._chunked(export._archive(read(export._START), read)))


def _unzip_test(data: bytes, tmp_path: Path) -> None:
    if shutil.which("unzip") is None:
        pytest.skip("Info-ZIP unzip is not installed")
    path = tmp_path / "export.zip"
    path.write_bytes(data)
    result = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_archive_is_read_back_whole_by_zipfile_and_unzip(tmp_path: Path) -> None:
    data = _archive(2_500)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC checked
        infos = archive.infolist()
        assert len(infos) == 2_500
        assert len({info.filename.casefold() for info in infos}) == 2_500
        assert infos[0].filename == "note 0.md"
        assert infos[1_000].filename == "note 0 (1001).md"
        assert infos[7].date_time == (2026, 11, 24, 23, 40, 6)  # MS-DOS time: 2-second steps
        assert infos[7].external_attr >> 16 == 0o100644
        assert archive.read(infos[3]).endswith("body of note 3\r\n😀".encode())
    _unzip_test(data, tmp_path)


def test_more_than_65535_files_make_a_zip64_archive_both_readers_read(tmp_path: Path) -> None:
    data = _archive(70_000, body=lambda n: "")

    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end of central directory record
    assert b"PK\x06\x07" in data[-200:]  # and its locator
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.infolist()) == 70_000
        assert archive.testzip() is None
    _unzip_test(data, tmp_path)


def test_an_offset_beyond_4_gib_is_written_in_the_zip64_extra_field() -> None:
    # 4 GiB of notes is too much for a test: the record alone, decoded by zipfile's own ZIP64 parser.
    offset = 5 * 2**30
    entry = Entry(name=b"far.md", modified=_MOMENT, mode=0o100644, crc=1, compressed_size=2, size=3, offset=offset)
    record = central_record(entry)

    info = zipfile.ZipInfo("far.md")
    name_length, extra_length = int.from_bytes(record[28:30], "little"), int.from_bytes(record[30:32], "little")
    info.extra = record[46 + name_length : 46 + name_length + extra_length]
    info.header_offset = int.from_bytes(record[42:46], "little")
    info.file_size, info.compress_size = 3, 2
    info._decodeExtra()  # type: ignore[attr-defined]

    assert info.header_offset == offset
    assert record[6] == 45  # the version needed for ZIP64


@pytest.mark.parametrize(
    ("modified", "dos_time", "unix_time"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), (1980, 1, 1, 0, 0, 0), -(2**31)),
        (datetime(1970, 1, 1, tzinfo=UTC), (1980, 1, 1, 0, 0, 0), 0),
        (datetime(2100, 1, 1, tzinfo=UTC), (2100, 1, 1, 0, 0, 0), 2**31 - 1),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), (2107, 12, 31, 23, 59, 58), 2**31 - 1),
    ],
)
def test_a_time_a_field_cannot_hold_is_written_as_the_nearest_one_it_can(
    modified: datetime, dos_time: tuple[int, ...], unix_time: int
) -> None:
    entry, data = entry_for(name="n.md", modified=modified, mode=0o100644, content=b"x", offset=0)
    archive = local_header(entry) + data
    record = central_record(entry)
    archive += record + end_records(count=1, directory_offset=len(archive), directory_size=len(record))

    with zipfile.ZipFile(io.BytesIO(archive)) as read:
        (info,) = read.infolist()
        assert info.date_time == dos_time
        assert read.read(info) == b"x"
    # The extended timestamp field (0x5455) closes the record: flags, then the signed 32-bit time.
    assert int.from_bytes(record[-4:], "little", signed=True) == unix_time


def test_a_directory_beyond_4_gib_with_few_entries_has_zip64_end_records() -> None:
    # Few files, but large ones before the directory: the offset, not the count, needs ZIP64.
    offset, size = 5 * 2**30, 46 + 6 + 9 + 12

    end = end_records(count=3, directory_offset=offset, directory_size=size)

    assert end[:4] == b"PK\x06\x06"
    assert int.from_bytes(end[24:32], "little") == 3  # entries on this disk
    assert int.from_bytes(end[40:48], "little") == size
    assert int.from_bytes(end[48:56], "little") == offset
    locator = end[56:76]
    assert locator[:4] == b"PK\x06\x07"
    assert int.from_bytes(locator[8:16], "little") == offset + size  # where the ZIP64 end record starts
    classic = end[76:]
    assert classic[:4] == b"PK\x05\x06"
    assert int.from_bytes(classic[10:12], "little") == 3  # the count fits: written as it is
    assert int.from_bytes(classic[16:20], "little") == 0xFFFFFFFF  # the offset does not: "see ZIP64"


def _peak_bytes(count: int) -> int:
    read = _notes(count)
    tracemalloc.start()
    try:
        for _ in export._chunked(export._archive(read(export._START), read)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_memory_an_export_takes_does_not_grow_with_the_number_of_notes() -> None:
    small, large = _peak_bytes(1_000), _peak_bytes(10_000)

    # Measured 2.90 MB for both (the 2 MiB name filter, a batch, a chunk). Keeping only each central
    # directory record until the end measured 3.08 MB and 5.16 MB. Allow 64 KiB for allocator noise.
    assert large - small < 64 * 1024, (small, large)
