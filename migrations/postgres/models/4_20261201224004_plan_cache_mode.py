from tortoise import BaseDBAsyncClient

# Hand-written: no model changes. `plan_cache_mode = force_custom_plan` as the database's own default,
# so every new session gets it without a startup parameter. The app sends it at connect time
# (notes_app/db.py), but PgBouncer refuses startup parameters it does not track, so behind PgBouncer
# (DB_PGBOUNCER=true) the database's default is what applies; reports and psql sessions get it too.
# Why the setting matters: notes per owner are skewed, and a generic plan made for an average owner is
# 50x slower for a heavy one (bench/LISTING.md). ALTER DATABASE needs the database's owner, which the
# migrating role is; current_database() because the name differs per deployment (and per test run).
RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        DO $$ BEGIN
            EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
        END $$;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DO $$ BEGIN
            EXECUTE format('ALTER DATABASE %I RESET plan_cache_mode', current_database());
        END $$;"""


MODELS_STATE = (
    "eJztmW1v2jAQgP8KyqdW6ipgtKumaRJQurIWMrXpVrWaIpOYYDXYaeyUoo7/PtvE5J2BBp"
    "RWfEvOd7H9nO07X160IbGhSw9vKPS1z6UXDYMh5A8J+UFJA54XSYWAgZ4rFQOl0aPMBxbj"
    "sj5wKeQiG1LLRx5DBHMpDlxXCInFFRF2IlGA0WMATUYcyAZyHPe/uRhhGz5Dql69B7OPoG"
    "snhols0beUm2zsSVkbszOpKHrrmRZxgyGOlL0xGxA800aYCakDMfQBg+LzzA/E8MXowlmq"
    "GU1HGqlMhxizsWEfBC6LTbdnRjLNNLu6YV63DNPUlgBkESzg8qFSOXtHDOFDtVL7VDv5eF"
    "w74SpymDPJp8m06wjM1FDi6RraRLYDBqYaknEEVbhUPmfQNgfAz2cbt0kR5kNPE1Y8txfx"
    "EDybLsQOG/DXWnkOz5/1q+Z5/WqvVt4XHRK+CaY7oxu2VGWTQB4h9gClI+Lb5gDQwTKcM4"
    "arga0EEe1oE28cd/XoaAHeXKsQuGxLErd8KHiYgGVxn/IWhoYwH3nSMsXbDk0P1cNbpM8n"
    "aOvYHYebbA58o91pXRv1zg/R3ZDSR1fyqxst0VKV0nFKunec8tPsI6VfbeO8JF5Ld3q3Jf"
    "ESyhxf9hjpGXeaGBMIGDExGZnAjp0HSqqoTUSw6D/ETjYh6AHrYQT4vkm0RMsDEwZpdmU0"
    "QrOziyvoAgk2uwbCWNnln3iD3p+o9a6kahUIbKRKikBmm4bVYVoCMHDklETfoqc4q5x8Qz"
    "Eszjew0lhnvnGvkRF3ojnNGIBvDdATlM+BZ8cOA97OLYu1k0eH0N5lMpvMZBhi7lJpzMzg"
    "PYbV8iJpDNcqDqvlTCLTI/Y4C9iAzwUrV+lvjq+mrffgzA2TrVsjESEVw71O/XY/ESUv9e"
    "43pR5j3rzUGynUDDg5Eer7td4tWMuhfjpjQRYr/Sm5iGaOi5Uh/9IPsCV4lnoBchnC9FD0"
    "9/UVXCH4zHdFmnoqCxEfSLvCQxjDnAO7QYgLAS5I3WdGKY/0uNW6XDGTbJZ6Q9cvE9Qb7f"
    "QKv+k0Wld7FekCroQYjJ/pEet4PF2Cdtxsx3sJ3k/Qp2Geu2A2ErP4d0qyKtCVrU5JdvfO"
    "/wygW3TPVEwyF824m5P3gmXcnLTcuXmr3Ry/6C14OsZNNnc8bvmlLVOjSSHO8j0jPkQOvo"
    "BjibnNhwSwlXdXS/26eGN0i8oxXOyD0axwkFhWfPJ8ynAa0Zv162b9tKVNiste66zs1KGP"
    "rIGWU9sJWw7mVXdApLP7n/SWNvTBnCpMYUZZXIcpTinfRSVmHT84xKZagnCo/g7pVhaqc1"
    "Xm1Lkq2ToX75FBnJPcFddfYiabL8G8Tj63smLLEv9wVh/MJn8BCFKJIg=="
)
