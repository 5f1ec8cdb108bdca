"""The pieces of bench/run.py: databases, servers, load, /proc accounting and the report."""
