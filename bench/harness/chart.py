"""The chart `make bench` writes beside the report: req/s as a ratio of raw_full's (paired per round,
median) and p99 latency, per app and workload. matplotlib with the Agg backend: no display needed."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from harness.report import RATIO_TARGETS, REFERENCE, Report, _median, _rps, _runs, paired


def draw(report: Report, path: Path) -> None:
    workloads = [w for w in report.workloads if any(r.workload == w for r in report.runs)]
    apps = [a for a in report.apps if any(r.app == a for r in report.runs)]
    fig, (ratio_ax, p99_ax) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / max(len(apps), 1)
    for i, app in enumerate(apps):
        xs = [w_index + (i - (len(apps) - 1) / 2) * width for w_index in range(len(workloads))]
        ratios = [_median(paired(report, app, REFERENCE, w, _rps)) for w in workloads]
        p99s = [_median(r.p99_us / 1000 for r in _runs(report, app, w)) for w in workloads]
        ratio_ax.bar(xs, [r or 0 for r in ratios], width, label=app)
        p99_ax.bar(xs, [p or 0 for p in p99s], width, label=app)
    floor = next(target for ref, _, target in RATIO_TARGETS if ref == REFERENCE)
    ratio_ax.axhline(1.0, color="black", linewidth=0.8)
    ratio_ax.axhline(floor, color="red", linestyle="--", linewidth=0.8, label=f"target {floor:g}")
    ratio_ax.set_title(f"req/s ÷ {REFERENCE}'s (same round, median of rounds)")
    p99_ax.set_title(f"p99 latency, ms (log scale; {report.load})")
    p99_ax.set_yscale("log")
    for ax in (ratio_ax, p99_ax):
        ax.set_xticks(range(len(workloads)), workloads)
        ax.grid(axis="y", alpha=0.3)
    ratio_ax.legend(fontsize="small")
    fig.suptitle(report.title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
