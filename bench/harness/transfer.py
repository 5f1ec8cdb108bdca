"""GET /export and POST /import, measured once each against a running notes_app.

Not wrk workloads: one export is one long streamed response, one import one large upload. Export:
the whole account (the seeded notes) downloaded as the client reads it, with the time to the first
byte, notes/s and the server's peak RSS during the download (sampled, against its RSS just before:
the stream should keep memory flat however many notes there are). Import: a ZIP of `import_notes`
files (10,000 is the contract's most per archive) cut from that export, POSTed once, notes/s.
"""

import io
import time
import urllib.request
import zipfile
from dataclasses import dataclass

from harness import procstats

_READ = 256 * 1024


@dataclass(frozen=True)
class TransferResult:
    exported: int
    export_seconds: float
    first_byte_ms: float
    archive_mb: float
    rss_before_mb: float
    export_peak_rss_mb: float
    imported: int
    import_seconds: float
    import_peak_rss_mb: float

    def lines(self) -> list[str]:
        return [
            f"**export** (GET /export, {self.exported:,} notes, {self.archive_mb:.1f} MB ZIP): "
            f"{self.exported / self.export_seconds:,.0f} notes/s ({self.export_seconds:.1f} s), first byte "
            f"after {self.first_byte_ms:.0f} ms; server peak RSS {self.export_peak_rss_mb:.0f} MB during the "
            f"download ({self.rss_before_mb:.0f} MB just before it)",
            f"**import** (POST /import, a ZIP of {self.imported:,} notes cut from that export): "
            f"{self.imported / self.import_seconds:,.0f} notes/s ({self.import_seconds:.1f} s), server peak RSS "
            f"{self.import_peak_rss_mb:.0f} MB",
        ]


def _request(base: str, token: str, path: str, *, zip_body: bytes | None = None) -> urllib.request.Request:
    if not base.startswith("http://127.0.0.1:"):
        raise ValueError(f"the bench only talks to servers on this machine, not {base}")
    headers = {"Authorization": f"Bearer {token}"}
    if zip_body is None:
        return urllib.request.Request(base + path, headers=headers)
    headers["Content-Type"] = "application/zip"
    return urllib.request.Request(base + path, data=zip_body, method="POST", headers=headers)


def _rss_mb(pids: list[int]) -> float:
    return sum(procstats.status_kib(pid, "VmRSS") for pid in pids) * 1024 / 1e6


def measure_transfer(*, base: str, token: str, pids: list[int], expected: int, import_notes: int) -> TransferResult:
    rss_before = _rss_mb(pids)
    archive = io.BytesIO()
    with procstats.RssSampler(pids, interval=0.05) as export_rss:
        start = time.perf_counter()
        with urllib.request.urlopen(_request(base, token, "/export"), timeout=600) as response:
            first = response.read(1)
            first_byte = time.perf_counter() - start
            archive.write(first)
            while chunk := response.read(_READ):
                archive.write(chunk)
        export_seconds = time.perf_counter() - start
    with zipfile.ZipFile(archive) as exported:
        names = exported.namelist()
        if len(names) != expected:
            raise RuntimeError(f"GET /export gave {len(names)} files, expected {expected}")
        upload = io.BytesIO()
        with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as cut:
            for name in names[:import_notes]:
                cut.writestr(name, exported.read(name))
    body = upload.getvalue()
    with procstats.RssSampler(pids, interval=0.05) as import_rss:
        start = time.perf_counter()
        with urllib.request.urlopen(_request(base, token, "/import", zip_body=body), timeout=600) as response:
            if response.status != 201:
                raise RuntimeError(f"POST /import answered {response.status}")
            response.read()
        import_seconds = time.perf_counter() - start
    return TransferResult(
        exported=len(names),
        export_seconds=export_seconds,
        first_byte_ms=first_byte * 1000,
        archive_mb=len(archive.getvalue()) / 1e6,
        rss_before_mb=rss_before,
        export_peak_rss_mb=export_rss.peak_kib * 1024 / 1e6,
        imported=min(import_notes, len(names)),
        import_seconds=import_seconds,
        import_peak_rss_mb=import_rss.peak_kib * 1024 / 1e6,
    )
