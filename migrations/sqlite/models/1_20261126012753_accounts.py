from tortoise import BaseDBAsyncClient

# Hand-edited. SQLite cannot add a NOT NULL foreign key column to a table with rows (nor add a
# constraint later), so the note table is rebuilt, as https://sqlite.org/lang_altertable.html#otheralter
# describes. Its AUTOINCREMENT counter is carried over, so ids of deleted notes are never reused.
# Notes written before accounts existed are kept and given to the reserved account "legacy", which
# nobody can log in to ("!" is no password hash); it is created only when there are such notes.
# Aerich's SQLite backend runs a migration with executescript, which commits first: the explicit
# BEGIN ... COMMIT is what keeps this all-or-nothing.
RUN_IN_TRANSACTION = False


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        BEGIN;
        CREATE TABLE IF NOT EXISTS "user" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "username" VARCHAR(40) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
);
        INSERT INTO "user" ("username", "password_hash", "created_at")
            SELECT 'legacy', '!', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') WHERE EXISTS (SELECT 1 FROM "note");
        CREATE TABLE "note_new" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "tags" JSON NOT NULL,
    "pinned" INT NOT NULL,
    "archived" INT NOT NULL,
    "version" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);
        INSERT INTO "note_new" ("id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at", "owner_id")
            SELECT "id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at", (SELECT "id" FROM "user" WHERE "username" = 'legacy') FROM "note";
        DELETE FROM sqlite_sequence WHERE name = 'note_new';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'note_new', seq FROM sqlite_sequence WHERE name = 'note';
        DROP TABLE "note";
        ALTER TABLE "note_new" RENAME TO "note";
        CREATE INDEX "idx_note_owner_i_8863aa" ON "note" ("owner_id", "updated_at", "id");
        COMMIT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        BEGIN;
        CREATE TABLE "note_old" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "tags" JSON NOT NULL,
    "pinned" INT NOT NULL,
    "archived" INT NOT NULL,
    "version" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
        INSERT INTO "note_old" ("id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at") SELECT "id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at" FROM "note";
        DELETE FROM sqlite_sequence WHERE name = 'note_old';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'note_old', seq FROM sqlite_sequence WHERE name = 'note';
        DROP TABLE "note";
        ALTER TABLE "note_old" RENAME TO "note";
        CREATE INDEX "idx_note_updated_acc5ba" ON "note" ("updated_at", "id");
        DROP TABLE IF EXISTS "user";
        COMMIT;"""


MODELS_STATE = (
    "eJztmW1v2jAQgP8KyqdW6ipg9EXTNAkoXVkLTDTdqlZVZBITrAY7jZ1S1PHfZ5uYvDPQgN"
    "KKb8n5Lj4/55fz5VUbEgs69PCGQk/7UnjVMBhC/hCTHxQ04LqhVAgY6DlS0VcaPco8YDIu"
    "6wOHQi6yIDU95DJEMJdi33GEkJhcEWE7FPkYPfnQYMSGbCD9uH/gYoQt+AKpenUfjT6Cjh"
    "VzE1mibyk32NiVsiZm51JR9NYzTOL4Qxwqu2M2IHimjTATUhti6AEGxeeZ5wv3hXfBKNWI"
    "pp6GKlMXIzYW7APfYZHh9oxQphlGu6Mb1w3dMLQlAJkEC7jcVSpHbwsXPpVLlZPK6efjyi"
    "lXkW7OJCeTadchmKmhxNPWtYlsBwxMNSTjEKoIqXxOoa0PgJfNNmqTIMxdTxJWPLcX8RC8"
    "GA7ENhvw10pxDs9f1W79otrdqxT3RYeEL4LpymgHLWXZJJCHiF1A6Yh4ljEAdLAM55Tham"
    "ArQUg7XMQbx10+OlqAN9fKBS7b4sRNDwoeBmBp3Ge8haEhzEYet0zwtgLTQ/XwHunzAVod"
    "7IyDRTYHvt5sNa71auun6G5I6ZMj+VX1hmgpS+k4Id07TsRp9pHC76Z+URCvhbtOuyHxEs"
    "psT/YY6ul3mvAJ+IwYmIwMYEX2AyVV1CbisOg/RnY2IegB83EE+LqJtYTTAxMGaXpm1AKz"
    "88sudIAEm54DwVnZ5p94h9GfqPmupGoWCGykTPJAppuG5WFSAjCw5ZBE36KnKKuMfEMxzM"
    "83sNJYZ75xr5ERD6IxzRh814psAFz2sMtHNpmPMMScpZKRmcFHPByLiyQjXCv/cCym0pEe"
    "scZpwDp8yZm5Sn9zfDVtvdtf5mHXuNVj55xiuNeq3u7HzrqrTvu7Uo8wr191agnUDNgZ58"
    "yP6047Zy4H+sm8A5ms8KfgIJraLlaG/Gvfx6bgWej5yGEI00PR37c3CIXgMz8USeqJXEJ8"
    "IBkKF2EMMzbsGiEOBDgnAZ8ZJSLS41brCsVMslnqtU7nKka91kzO8JtWrdHdK8kQcCXEYH"
    "RPD1kDzxyg56VpR812vJfg/Qw9GmSrC2YjEYt/pySrAl3a6pRkd3v8zwN0i26LiknquhgN"
    "czzTXybMcctdmLc6zNHL3YK7Y9Rkc9vjll/aUpWWBOI033PiQWTjSziWmJvcJYDNrLta4g"
    "fEO6ObV1ThYg+MZoWD2LTig+dDhtMTvV69rlfPGtokv3i1zvpMFXrIHGgZFZqg5WBejQaE"
    "Oru/Qu9pQR/MqcLkZpT5dZj8lPJDVGLW8ZtCLKolCAfqH5BuaaE6V2lOnauUrnPxHhnEGc"
    "ldfv0lYrL5Eszb5HMrK7Ys8Sdm9YfZ5C8S4Xbe"
)
