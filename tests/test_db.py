"""The connections the app opens to its database."""

import pytest
from tortoise import connections


async def test_postgres_plans_every_statement_for_its_own_values(dialect: str) -> None:
    # One generic plan for all owners is 10 to 100 times slower for an owner with many notes.
    if dialect != "postgres":
        pytest.skip("a PostgreSQL setting")

    [row] = await connections.get("default").execute_query_dict("SHOW plan_cache_mode")

    assert row["plan_cache_mode"] == "force_custom_plan"
