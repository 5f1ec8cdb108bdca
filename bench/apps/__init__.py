"""The baseline apps (copied from shared/bench/apps, see bench/README.md). Each reads DATABASE_URL and
POOL_SIZE from the environment and serves the same notes API over the baselines' own `note` table."""
