"""bench/RESULTS.md from the measured runs: medians over rounds, ratios paired within each round, the
1-vs-2-workers figure, the access log's cost and issue 16's targets as a table of PASS/short cells."""

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = "raw_full"  # the fair floor: notes_app's answers and durable work, hand-written
TWO_WORKERS = "notes_app_2w"
WORKLOAD_TITLES = {
    "get": "GET /notes/{random id of the seeded notes}",
    "list": "GET /notes?limit=50 — notes_app and raw_full: `&cursor=` one of the app's own real next_cursor "
    "values (keyset on (updated_at, id)); the other baselines: `&offset=` random 0..999 on their own table",
    "patch": "PATCH /notes/{random id of the seeded notes} (JSON body) → 200; notes_app and raw_full also write "
    "the revision, the change counter and the note's change_seq",
    "post": "POST /notes (JSON title, body) → 201; notes_app and raw_full also write the revision, the change "
    "counter and the note's change_seq",
    "search": "GET /notes?limit=50&q={one word; each matches 1/16 of the notes}",
    "feed": "GET /notes/changes?limit=100&cursor={one of its real cursors}: a full page of 100 changes "
    "(notes_app only)",
}
# Issue 16: (reference app, workloads, lowest acceptable ratio of notes_app's req/s to the reference's).
TARGET_WORKLOADS = ("get", "list", "post", "patch")
RATIO_TARGETS = [("raw_full", TARGET_WORKLOADS, 0.90), ("seed_databases", ("get", "list", "post"), 1.5)]
P99_TARGET = 2.0  # notes_app's p99 at most this many times raw_full's, same round, same load
ACCESS_LOG_TARGET_PCT = 3.0
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
    export_notes_per_s: float | None = None
    import_notes_per_s: float | None = None
    # notes_app GET with its access log on and off, alternating (harness/access_log.py)
    access_log: list[Measurement] = field(default_factory=list)
    access_log_lines: tuple[int, int] = (0, 0)  # lines the on and the off server wrote
    chart: str | None = None  # the chart's file name, next to the report
    load: str = "64 connections, pool 5"  # what the p99 target is measured under


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


def _inverse_total_cpu(r: Measurement) -> float:
    # paired() divides app by reference: the inverse makes the quotient reference ÷ app, like req/s.
    return 1 / max(r.srv_cpu_us + r.pg_cpu_us, 1e-9)


def _workload_table(report: Report, workload: str) -> list[str]:
    lines = [
        f"### {workload}: {WORKLOAD_TITLES[workload]}\n",
        f"| app | req/s | range over rounds | vs {REFERENCE} | p50 ms | p90 ms | p99 ms | max ms | srv CPU µs/req "
        "| pg CPU µs/req | peak RSS MB | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
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
            f"{_fmt(_median(r.p90_us / 1000 for r in runs), '.1f')} | "
            f"{_fmt(_median(r.p99_us / 1000 for r in runs), '.1f')} | "
            f"{_fmt(_median(r.max_us / 1000 for r in runs), '.1f')} | "
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
    return f"{'PASS' if ok else 'short'} — {value:.2f}{unit} vs {sign} {target:g}{unit}: {how}"


def _cell(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "not measured"
    ok = value <= target if at_most else value >= target
    return f"{value:.2f} **PASS**" if ok else f"{value:.2f} short"


def _target_table(report: Report) -> list[str]:
    """Issue 16's table: one cell per reference and workload, PASS or short, paired medians."""
    lines = [
        "| notes_app ÷ | " + " | ".join(TARGET_WORKLOADS) + " |",
        "|---|" + "---:|" * len(TARGET_WORKLOADS),
    ]
    for ref, workloads, target in RATIO_TARGETS:
        cells = [
            _cell(_median(paired(report, "notes_app", ref, w, _rps)), target) if w in workloads else "—"
            for w in TARGET_WORKLOADS
        ]
        lines.append(f"| {ref}, req/s (≥ {target:g}) | " + " | ".join(cells) + " |")
    cells = [
        _cell(_median(paired(report, "notes_app", REFERENCE, w, _p99)), P99_TARGET, at_most=True)
        for w in TARGET_WORKLOADS
    ]
    lines.append(f"| {REFERENCE}, p99 at {report.load} (≤ {P99_TARGET:g}) | " + " | ".join(cells) + " |")
    cells = [_fmt(_median(paired(report, "notes_app", REFERENCE, w, _cpu)), ".2f") for w in TARGET_WORKLOADS]
    lines.append(f"| {REFERENCE}, server CPU per request (cross-check, no target) | " + " | ".join(cells) + " |")
    cells = [
        _fmt(_median(paired(report, "notes_app", REFERENCE, w, _inverse_total_cpu)), ".2f") for w in TARGET_WORKLOADS
    ]
    lines.append(
        f"| {REFERENCE}, req/s as CPU per request predicts it (cross-check, no target) | " + " | ".join(cells) + " |"
    )
    busy = _median(r.other_cpu_pct for r in report.runs)
    lines += [
        "",
        "The last row is raw_full's server + PostgreSQL CPU per request ÷ notes_app's: the throughput ratio "
        "when the cores are the bottleneck, and far less disturbed by other tenants than req/s. "
        + (
            f"**This run's machine was busy** (other tenants used {busy:.0f}% of all cores in the median "
            "run): where a req/s cell and that row disagree, the row is the better guide."
            if busy is not None and busy > 25
            else ""
        ),
    ]
    return [*lines, ""]


def access_log_cost(report: Report) -> float | None:
    """The access log's cost in % of GET req/s: 1 - on/off for each alternating pair, the median."""
    on = [r for r in report.access_log if r.app.endswith("on")]
    off = [r for r in report.access_log if r.app.endswith("off")]
    costs = [100 * (1 - a.rps / b.rps) for a, b in zip(on, off, strict=False) if b.rps > 0]
    return _median(costs)


def access_log_cpu_cost(report: Report) -> float | None:
    """The same cost read from the server's CPU per request (on/off - 1), the median over pairs: the
    cross-check that other tenants' load disturbs less than req/s."""
    on = [r for r in report.access_log if r.app.endswith("on")]
    off = [r for r in report.access_log if r.app.endswith("off")]
    costs = [100 * (a.srv_cpu_us / b.srv_cpu_us - 1) for a, b in zip(on, off, strict=False) if b.srv_cpu_us > 0]
    return _median(costs)


def _targets(report: Report) -> list[str]:
    lines = _target_table(report)
    notes_runs = [r for r in report.runs if r.app == "notes_app"]
    # Judged on VmHWM, the process's true peak: it also covers start-up and the harness's one login
    # per turn (a password hash can need more memory than the load itself).
    peak = max((r.hwm_mb for r in notes_runs), default=None)
    under_load = max((r.peak_rss_mb for r in notes_runs), default=None)
    lines.append(
        f"- notes_app peak RSS, 1 worker (VmHWM over the process's life, start-up and the bench's login "
        f"included; {_fmt(under_load)} MB at most while under load): "
        f"{_verdict(peak, RSS_TARGET_MB, at_most=True, unit=' MB')}"
    )
    ours = [r for r in report.runs if r.app.startswith("notes_app")] + report.access_log
    errors = sum(r.errors for r in ours)
    verdict = "NOT MEASURED" if not ours else ("PASS" if errors == 0 else "short")
    detail = "; ".join(f"{r.app} {r.workload} r{r.round}: {r.error_detail}" for r in ours if r.errors)
    lines.append(
        f"- notes_app zero errors: {verdict} — {errors} errors over {len(ours)} measured runs"
        + (f" ({detail})" if detail else "")
    )
    cost = access_log_cost(report)
    pairs = len(report.access_log) // 2
    busy = _median(r.other_cpu_pct for r in report.access_log)
    if busy is not None and busy > 25:
        lines.append(
            f"- access log cost on GET /notes/{{id}} (≤ {ACCESS_LOG_TARGET_PCT:g}%): **inconclusive** — other "
            f"tenants used {busy:.0f}% of all cores in the median run; measured {_fmt(cost, '+.1f')}% of req/s "
            f"and {_fmt(access_log_cpu_cost(report), '+.1f')}% server CPU per request over {pairs} pair(s)"
        )
    elif pairs:
        lines.append(
            f"- access log cost on GET /notes/{{id}} (≤ {ACCESS_LOG_TARGET_PCT:g}%, {pairs} alternating on/off "
            f"pair(s)): {_verdict(cost, ACCESS_LOG_TARGET_PCT, at_most=True, unit='%')}; server CPU per request "
            f"{_fmt(access_log_cpu_cost(report), '+.1f')}% with it on"
        )
    else:
        lines.append(f"- access log cost on GET /notes/{{id}} (≤ {ACCESS_LOG_TARGET_PCT:g}%): NOT MEASURED")
    feed = _median(r.rps for r in _runs(report, "notes_app", "feed"))
    lines.append(
        "- new endpoints, for later comparison (no target): change feed page (100 changes) "
        f"**{_fmt(feed)} req/s**; export **{_fmt(report.export_notes_per_s, ',.0f')} notes/s**; import "
        f"**{_fmt(report.import_notes_per_s, ',.0f')} notes/s** (details below)"
    )
    return [*lines, ""]


def _access_log_section(report: Report) -> list[str]:
    if not report.access_log:
        return []
    on_lines, off_lines = report.access_log_lines
    lines = [
        "## notes_app's access log: on against off (GET /notes/{id}, alternating runs)\n",
        "Two notes_app servers on one seeded database, identical but for the access log (off: uvicorn's "
        "`--log-config` leaves the `notes_app.access` logger at WARNING with a handler of its own, so "
        "`configure_access_log` keeps out and no line is built), measured in turn, the order swapped every "
        f"pair. The on server wrote {on_lines:,} access-log lines to its stdout (a file), the off server "
        f"{off_lines:,}.\n",
        "| pair | on req/s | off req/s | cost % | on p99 ms | off p99 ms | on srv CPU µs/req | off srv CPU µs/req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    on = [r for r in report.access_log if r.app.endswith("on")]
    off = [r for r in report.access_log if r.app.endswith("off")]
    for i, (a, b) in enumerate(zip(on, off, strict=False), start=1):
        lines.append(
            f"| {i} | {a.rps:.0f} | {b.rps:.0f} | {100 * (1 - a.rps / b.rps):.1f} | {a.p99_us / 1000:.1f} | "
            f"{b.p99_us / 1000:.1f} | {a.srv_cpu_us:.0f} | {b.srv_cpu_us:.0f} |"
        )
    return [
        *lines,
        "",
        f"Median cost: **{_fmt(access_log_cost(report), '.1f')}%** of GET req/s; server CPU per request "
        f"{_fmt(access_log_cpu_cost(report), '+.1f')}% with the log on. Under heavy load from other tenants "
        "(other CPU % in the per-round table) single runs swing by a factor of two either way, and a few pairs "
        "cannot resolve a 3% difference: trust this only from a quiet machine, or with more pairs.",
        "",
    ]


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
    lines += ["## Issue 16 targets (notes_app; ratios are medians of per-round pairs)\n", *_targets(report)]
    if report.chart:
        lines += [f"![req/s ratio to {REFERENCE} and p99 per app and workload]({report.chart})\n"]
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
    lines += _access_log_section(report)
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


# Everything from this line on in an existing report is kept when the report is written again: the
# hand-written reading of a run and the profiles of where the time goes, which no run can regenerate.
KEPT_MARKER = "<!-- hand-written below: make bench keeps everything from this line on -->"


def write(report: Report, path: Path) -> None:
    kept = ""
    if path.exists():
        previous = path.read_text()
        if KEPT_MARKER in previous:
            kept = "\n" + previous[previous.index(KEPT_MARKER) :]
    path.write_text(render(report) + kept)
