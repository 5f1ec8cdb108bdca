"""bench/RESULTS.md from the measured runs: medians over rounds, ratios paired within each round, the
1-vs-2-workers figure and the issue's targets as a checklist."""

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = "raw_asyncpg"
TWO_WORKERS = "notes_app_2w"
WORKLOAD_TITLES = {
    "get": "GET /notes/{random id of the seeded notes}",
    "list": "GET /notes?limit=50 — baselines: `&offset=` random 0..999; notes_app: `&cursor=` one of its "
    "real next_cursor values (keyset)",
    "patch": "PATCH /notes/{random id of the seeded notes} (JSON body) → 200; notes_app also writes the revision",
    "post": "POST /notes (JSON title, body) → 201",
    "search": "GET /notes?limit=50&q={one word; each matches 1/16 of the notes}",
    "feed": "GET /notes/changes?limit=100&cursor={one of its real cursors}: a full page of 100 changes "
    "(notes_app only)",
}
# (reference app, workload, lowest acceptable ratio of notes_app's req/s to the reference's)
RATIO_TARGETS = [
    ("raw_full", "get", 0.90),
    ("raw_full", "list", 0.90),
    ("raw_full", "post", 0.95),
    ("raw_asyncpg", "get", 0.65),
    ("raw_asyncpg", "list", 0.70),
    ("raw_asyncpg", "post", 0.80),
    ("seed_databases", "get", 1.5),
    ("seed_databases", "list", 2.0),
]
RSS_TARGET_MB = 150.0


@dataclass(frozen=True)
class Measurement:
    """One measured wrk run of one app and workload in one round."""

    round: int
    app: str
    workload: str
    workers: int
    requests: int
    rps: float
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    errors: int
    error_detail: str  # connect/read/write/status/timeout
    srv_cpu_us: float  # CPU of the uvicorn process(es) per request
    pg_cpu_us: float  # CPU per request of PostgreSQL: auxiliary processes + backends of the bench's databases
    other_cpu_pct: float  # busy CPU not ours (app, PostgreSQL, wrk): other tenants, % of all cores
    peak_rss_mb: float  # highest summed VmRSS of the server's processes sampled during the run
    hwm_mb: float  # highest VmHWM (peak since start) of any one server process at the end of the run


@dataclass
class Report:
    title: str
    setup: dict[str, str]
    apps: list[str]
    workloads: list[str]
    runs: list[Measurement]
    smoke: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was skipped and why, caveats
    failures: list[str] = field(default_factory=list)
    transfer: list[str] = field(default_factory=list)  # GET /export and POST /import (harness/transfer.py)


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _runs(report: Report, app: str, workload: str) -> list[Measurement]:
    return [r for r in report.runs if r.app == app and r.workload == workload]


def paired(
    report: Report,
    app: str,
    ref: str,
    workload: str,
    metric: Callable[[Measurement], float],
) -> list[float]:
    """metric(app) / metric(ref) for each round in which both were measured."""
    ratios = []
    for run in _runs(report, app, workload):
        other = next((r for r in _runs(report, ref, workload) if r.round == run.round), None)
        if other is not None and metric(other) > 0:
            ratios.append(metric(run) / metric(other))
    return ratios


def _rps(r: Measurement) -> float:
    return r.rps


def _p99(r: Measurement) -> float:
    return r.p99_us


def _cpu(r: Measurement) -> float:
    return r.srv_cpu_us


def _workload_table(report: Report, workload: str) -> list[str]:
    lines = [
        f"### {workload}: {WORKLOAD_TITLES[workload]}\n",
        f"| app | req/s | range over rounds | vs {REFERENCE} | p50 ms | p99 ms | srv CPU µs/req "
        "| pg CPU µs/req | peak RSS MB | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for app in report.apps:
        if app == TWO_WORKERS:
            continue  # its own figure below
        runs = _runs(report, app, workload)
        if not runs:
            continue
        rps = [r.rps for r in runs]
        lines.append(
            f"| {app} | {_fmt(_median(rps))} | {min(rps):.0f}-{max(rps):.0f} | "
            f"{_fmt(_median(paired(report, app, REFERENCE, workload, _rps)), '.2f')} | "
            f"{_fmt(_median(r.p50_us / 1000 for r in runs), '.1f')} | "
            f"{_fmt(_median(r.p99_us / 1000 for r in runs), '.1f')} | "
            f"{_fmt(_median(r.srv_cpu_us for r in runs))} | {_fmt(_median(r.pg_cpu_us for r in runs))} | "
            f"{max(r.peak_rss_mb for r in runs):.0f} | {sum(r.errors for r in runs)} |"
        )
    return [*lines, ""]


def _ratio_table(report: Report) -> list[str]:
    lines = [
        "| notes_app ÷ | workload | req/s ratio | range over rounds | p99 ratio | srv CPU ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for ref in ("raw_full", "seed_databases", "raw_asyncpg", "tortoise_naive"):
        for workload in report.workloads:
            ratios = paired(report, "notes_app", ref, workload, _rps)
            if not ratios:
                continue
            lines.append(
                f"| {ref} | {workload} | {_fmt(_median(ratios), '.2f')} | "
                f"{min(ratios):.2f}-{max(ratios):.2f} | "
                f"{_fmt(_median(paired(report, 'notes_app', ref, workload, _p99)), '.2f')} | "
                f"{_fmt(_median(paired(report, 'notes_app', ref, workload, _cpu)), '.2f')} |"
            )
    return [*lines, ""]


def _workers_figure(report: Report) -> list[str]:
    one, two = _runs(report, "notes_app", "get"), _runs(report, TWO_WORKERS, "get")
    if not one or not two:
        return ["Not measured in this run (needs both `notes_app` and `notes_app_2w` in --apps).", ""]
    lines = [
        "| uvicorn workers | req/s | p99 ms | srv CPU µs/req (all processes) | peak RSS MB (sum) | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, runs in ((1, one), (2, two)):
        lines.append(
            f"| {workers} | {_fmt(_median(r.rps for r in runs))} | "
            f"{_fmt(_median(r.p99_us / 1000 for r in runs), '.1f')} | "
            f"{_fmt(_median(r.srv_cpu_us for r in runs))} | {max(r.peak_rss_mb for r in runs):.0f} | "
            f"{sum(r.errors for r in runs)} |"
        )
    scale = paired(report, TWO_WORKERS, "notes_app", "get", _rps)
    lines += [
        "",
        f"2 workers ÷ 1 worker, req/s paired per round: **{_fmt(_median(scale), '.2f')}** "
        f"(rounds: {', '.join(f'{x:.2f}' for x in scale)}). On 2 cores shared with wrk and PostgreSQL a "
        "second worker can only use CPU the first one left idle.",
        "",
    ]
    return lines


def _verdict(value: float | None, target: float, *, at_most: bool = False, unit: str = "") -> str:
    if value is None:
        return "NOT MEASURED"
    ok = value <= target if at_most else value >= target
    gap = target - value if at_most else value - target
    sign = "≤" if at_most else "≥"
    pct = abs(gap) / target * 100
    how = f"{abs(gap):.2f}{unit} headroom" if ok else f"short by {abs(gap):.2f}{unit} ({pct:.0f}%)"
    return f"{'PASS' if ok else 'MISS'} — {value:.2f}{unit} vs {sign} {target:g}{unit}: {how}"


def _targets(report: Report) -> list[str]:
    lines = []
    for ref, workload, target in RATIO_TARGETS:
        value = _median(paired(report, "notes_app", ref, workload, _rps))
        mark = "x" if value is not None and value >= target else " "
        # Server CPU per request is the cross-check that noise disturbs least.
        cpu = _median(paired(report, "notes_app", ref, workload, _cpu))
        cross_check = "" if cpu is None else f"; server CPU per request {cpu:.2f} times {ref}'s"
        lines.append(f"- [{mark}] notes_app ÷ {ref}, {workload}: {_verdict(value, target)}{cross_check}")
    notes_runs = [r for r in report.runs if r.app == "notes_app"]
    # Judged on VmHWM, the process's true peak: it also covers start-up and the harness's one login
    # per turn (a password hash can need more memory than the load itself).
    peak = max((r.hwm_mb for r in notes_runs), default=None)
    under_load = max((r.peak_rss_mb for r in notes_runs), default=None)
    mark = "x" if peak is not None and peak <= RSS_TARGET_MB else " "
    lines.append(
        f"- [{mark}] notes_app peak RSS, 1 worker (VmHWM over the process's life, start-up and the "
        f"bench's login included; {_fmt(under_load)} MB at most while under load): "
        f"{_verdict(peak, RSS_TARGET_MB, at_most=True, unit=' MB')}"
    )
    ours = [r for r in report.runs if r.app in ("notes_app", TWO_WORKERS)]
    errors = sum(r.errors for r in ours)
    verdict = "NOT MEASURED" if not ours else ("PASS" if errors == 0 else "MISS")
    detail = "; ".join(f"{r.workload} r{r.round}: {r.error_detail}" for r in ours if r.errors)
    lines.append(
        f"- [{'x' if ours and errors == 0 else ' '}] notes_app zero errors: {verdict} — {errors} errors "
        f"over {len(ours)} measured runs" + (f" ({detail})" if detail else "")
    )
    return [*lines, ""]


def render(report: Report) -> str:
    lines = [
        f"# {report.title}\n",
        "Generated by `make bench` (bench/run.py). Client, server and PostgreSQL share this machine's 2 "
        "cores and other tenants add noise, so absolute req/s drift from run to run: **compare the "
        "ratios**, which are paired within each round (both apps measured minutes apart) and then the "
        "median over rounds is taken. Server CPU per request is the figure least disturbed by noise.\n",
    ]
    noisy = [r for r in report.runs if r.other_cpu_pct > 10]
    if noisy:
        lines.append(
            f"**Noise warning**: {len(noisy)} of {len(report.runs)} measured runs saw more than 10% of the "
            "machine's CPU used by other processes (per-round table, 'other CPU %').\n"
        )
    lines += ["## Setup\n", *(f"- **{k}**: {v}" for k, v in report.setup.items()), ""]
    if report.notes:
        lines += ["## Notes\n", *(f"- {note}" for note in report.notes), ""]
    lines += ["## Targets (notes_app; req/s ratios are medians of per-round pairs)\n", *_targets(report)]
    lines += [
        "## Results per workload (medians over rounds)\n",
        f"vs {REFERENCE} = req/s ÷ {REFERENCE}'s in the same round. srv CPU = CPU time of the uvicorn "
        "process per request; pg CPU = the same for PostgreSQL (its auxiliary processes and the backends "
        "of the bench's databases, not other tenants' sessions); peak RSS = the largest resident size of "
        "the server sampled during the measured runs; errors = socket errors + responses ≥ 400, summed "
        "over rounds.\n",
    ]
    for workload in report.workloads:
        if any(r.workload == workload for r in report.runs):
            lines += _workload_table(report, workload)
    lines += ["## notes_app against the references\n", *_ratio_table(report)]
    lines += ["## notes_app GET: 1 vs 2 uvicorn workers\n", *_workers_figure(report)]
    if report.transfer:
        lines += ["## notes_app export and import (measured once, after the rounds)\n"]
        lines += [*(f"- {line}" for line in report.transfer), ""]
    lines += ["## Smoke checks (run against each app before it is measured)\n"]
    for app in report.apps:
        fails = report.smoke.get(app)
        state = "not run" if fails is None else "all passed" if not fails else "FAILED: "
        state += "; ".join(sorted(set(fails or [])))
        lines.append(f"- `{app}`: {state}")
    lines += [
        "",
        "## Per-round raw numbers\n",
        "| round | app | workload | req/s | p50 ms | p90 ms | p99 ms | max ms | errors c/r/w/s/t "
        "| srv CPU µs/req | pg CPU µs/req | peak RSS MB | other CPU % |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in report.runs:
        lines.append(
            f"| {r.round} | {r.app} | {r.workload} | {r.rps:.0f} | {r.p50_us / 1000:.1f} | "
            f"{r.p90_us / 1000:.1f} | {r.p99_us / 1000:.1f} | {r.max_us / 1000:.1f} | {r.error_detail} | "
            f"{r.srv_cpu_us:.0f} | {r.pg_cpu_us:.0f} | {r.peak_rss_mb:.0f} | {r.other_cpu_pct:.0f} |"
        )
    lines += [
        "",
        "other CPU % = busy CPU not spent by the app, this PostgreSQL cluster or wrk, as % of all cores "
        "during the measured run: load from other tenants (noise).\n",
    ]
    if report.failures:
        lines += ["## Failures\n", *(f"- {failure}" for failure in report.failures), ""]
    return "\n".join(lines)


def write(report: Report, path: Path) -> None:
    path.write_text(render(report))
