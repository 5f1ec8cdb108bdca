from tortoise import BaseDBAsyncClient

# Hand-written: the text search and tag filters of `GET /notes`, which the models cannot describe.
#
# `search_vector` is a STORED generated column, so PostgreSQL keeps it current on every INSERT and
# UPDATE, and adding it computes it for every existing note. English stemming ("running" finds "run");
# title words carry weight A, body words B, for a ranking a later version may sort by. The 'english'
# configuration is written out, never taken from default_text_search_config: a generated column must be
# immutable, and the query (notes_app/notes/listing.py) must use the same one. Not a model field:
# Tortoise never selects or writes it, and Aerich's model diffs never drop it.
#
# One GIN index answers every combination of owner, tags (`tags @> '[...]'`) and words
# (`search_vector @@ tsquery`) in one index scan that yields only that owner's matching notes. Lists
# are per owner: without owner_id in the index a search for a common word would fetch every user's
# matches and throw away all but the caller's. btree_gin (a contrib extension, trusted, so the
# database owner may create it) is what lets a GIN index hold the integer owner_id; jsonb_path_ops
# indexes a hash per path and value, smaller and faster than jsonb_ops for @>, the only tag operator
# the listing uses. The downgrade leaves the extension: other objects may have come to use it.
#
# The planner chooses per request between that index and walking the owner's notes in page order,
# from its estimate of how many notes match: under about 1% of an owner's notes the index wins. With
# the default statistics target the estimate for a tag or word is only good to about 1% (a 100-entry
# sample histogram), and a tag on 0.3% of the notes was walked for in 22 ms instead of found in 2 ms
# (bench/listing.py). A target of 1000 samples ten times as many rows, so ANALYZE takes a little longer.
RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE EXTENSION IF NOT EXISTS btree_gin;
        ALTER TABLE "note" ADD COLUMN "search_vector" TSVECTOR NOT NULL GENERATED ALWAYS AS (
            setweight(to_tsvector('english', "title"), 'A') || setweight(to_tsvector('english', "body"), 'B')
        ) STORED;
        CREATE INDEX IF NOT EXISTS "note_owner_filters_gin" ON "note"
            USING GIN ("owner_id", "tags" jsonb_path_ops, "search_vector");
        ALTER TABLE "note" ALTER COLUMN "tags" SET STATISTICS 1000, ALTER COLUMN "search_vector" SET STATISTICS 1000;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "note" ALTER COLUMN "tags" SET STATISTICS -1;
        DROP INDEX IF EXISTS "note_owner_filters_gin";
        ALTER TABLE "note" DROP COLUMN IF EXISTS "search_vector";"""


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
