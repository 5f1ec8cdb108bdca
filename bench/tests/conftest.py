"""The parity test's databases: BENCH_DB_PREFIX (default notes_bench) + `_parity`, so the test never
recreates the databases of a bench run (its own or another worktree's) in progress."""

import os

os.environ["BENCH_DB_PREFIX"] = os.environ.get("BENCH_DB_PREFIX", "notes_bench") + "_parity"
