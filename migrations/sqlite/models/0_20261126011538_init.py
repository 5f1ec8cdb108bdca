from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "note" (
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
CREATE INDEX IF NOT EXISTS "idx_note_updated_acc5ba" ON "note" ("updated_at", "id");
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSON NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztmG1P2zAQx79KlFedxBDtKKBpmtRCNzrRBEG2IRCynMRNLRI7JA5QMb77fE7SPLTpqA"
    "SFId4l/7uLL79zbF/u9YC7xI83DS6I/lm71xkO4KKib2g6DsNCBUFg21eOLPewYxFhR0ht"
    "jP2YSMklsRPRUFDOpMoS3weRO9KRMq+QEkavE4IE94iYkEgaLi6lTJlL7kgMtxd6ErpYEB"
    "dhAYNRV78El/AKjSnx3Urq0ihNSkdiGiptyMQ35QgZ2MjhfhKwwjmciglnM2/K1CgeYSSC"
    "UaUmogReCTLO3jx/yzT7wiVNuxTjkjFOfFFCYKNC0xEyTAudDiyE9BWgOZwBcJlqrN7egx"
    "Q+dtrbu9t7n3a296SLSnOm7D6kQxdg0kCFx7D0B2XHAqceinsBVVDhk3mu+xMcLQY7C6ix"
    "lUnX2eYkl8HNhYJuMcvWgTfAd8gnzBMTYLq1tQTmr97J/mHvpCW9PsCQXH4W6bdiZKZOag"
    "PiBWGbu9N5wBa5a5i5uf/6+Or6M9FdAtManFnw5CCOr/0yw9aod6bwBtPMcmQa33P3EvP9"
    "I7NfQy2wF8+j/nFqGg1zOfOvoXapI7Q/mk/jueXiyZB/GSfMAZ6anVBfUBZvwnhfX6AUwG"
    "d5KerUARmPhRepp6gH1EsRUsbIggW7z7lPMFtcjyKoVhFbRj1XKWbKeqn3TfOoQr0/rM/w"
    "n6P+4KTVViWQTlSQ8ppesMaRM6E3K9Muh73zXoH3DYliSOzxp5FSxL+PJE8Fuv2qjyQFTi"
    "cipSNgleiBtAgakMVYq5H1VTwL3cwv/sPjybINdDganFq90XFlUh/0rAFYOpUdNFdbO7Xl"
    "fPYQ7ffQOtTgVjs3jUF9hZ/5Wec65IQTwRHjtwi7ZSa5nEuVMldP+quUuRr5XuZXV2Zo2c"
    "ZXpf4CBBs7V7c4ctGchXd4k++8KegEdQUz7KkiAU3IM2tqeySizkRf0O5mlo1lDS8ufJ6z"
    "5X1vb9fZ3jZu1c0NbvNe/SZa3G73MS1ut9vc4oKtdgCVH9UKhDP3N0i3/agfCO0lPxDa8z"
    "8Q5IiCsAW7ZnNjWwpZf2/7Mhvlk3WxL7qZPfwFjO3iLg=="
)
