from tortoise import BaseDBAsyncClient

# Hand-written: full-text search over title and body (`GET /notes?q=...`), which the models do not
# describe. An FTS5 index with external content (content='note'): it stores only the index, the text
# stays in note, and rowid is note.id. The porter tokenizer stems English words ("running" finds "run")
# after unicode61 has split on punctuation, folded case and removed diacritics.
# The triggers keep the index in step with every INSERT, DELETE (account deletions cascade here too)
# and change of title or body; 'rebuild' indexes the notes that exist already. A later migration that
# rebuilds the note table (SQLite's way of altering a column) drops these triggers with the old table
# and must create them again.
# Aerich's SQLite backend runs a migration with executescript, which commits first: the explicit
# BEGIN ... COMMIT is what keeps this all-or-nothing.
RUN_IN_TRANSACTION = False


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        BEGIN;
        CREATE VIRTUAL TABLE "note_fts" USING fts5(
            "title", "body", content='note', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER "note_fts_insert" AFTER INSERT ON "note" BEGIN
            INSERT INTO "note_fts" ("rowid", "title", "body") VALUES (new."id", new."title", new."body");
        END;
        CREATE TRIGGER "note_fts_delete" AFTER DELETE ON "note" BEGIN
            INSERT INTO "note_fts" ("note_fts", "rowid", "title", "body") VALUES ('delete', old."id", old."title", old."body");
        END;
        CREATE TRIGGER "note_fts_update" AFTER UPDATE OF "title", "body" ON "note" BEGIN
            INSERT INTO "note_fts" ("note_fts", "rowid", "title", "body") VALUES ('delete', old."id", old."title", old."body");
            INSERT INTO "note_fts" ("rowid", "title", "body") VALUES (new."id", new."title", new."body");
        END;
        INSERT INTO "note_fts" ("note_fts") VALUES ('rebuild');
        COMMIT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        BEGIN;
        DROP TRIGGER IF EXISTS "note_fts_update";
        DROP TRIGGER IF EXISTS "note_fts_delete";
        DROP TRIGGER IF EXISTS "note_fts_insert";
        DROP TABLE IF EXISTS "note_fts";
        COMMIT;"""


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
