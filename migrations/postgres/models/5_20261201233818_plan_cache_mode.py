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
    "eJztXGtv2zYU/SuGPqWAFzSemxbDMMBxnDVrYhexuhUtBoKWaFuITKoiVcfo8t9H0nq/Yi"
    "V+SC4/xb68l49zSekcks4PbUFMZNPTj8ilBEO7ZxiIUp3cI6z91vqhYbhA/EOZW7ulQceJ"
    "nISBwYkt4xw/AEAZAVgYMqHMhQbjTlNoU8RNJqKGaznMIqJt7Nm2MBKDO1p4Fpk8bH3zEK"
    "9qhtgcubzg67/cbGETPSAafHXuwdRCtpkYhmWKtqUdsJUjbdeYXUlH0doEGMT2FjhydlZs"
    "TnDobWEmrDOEkQsZEtUz1xPdF73zhx2MaN3TyGXdxViMiabQs1lsuBMQ2TQAhiMdjAc6AF"
    "oFgAyCBbi8q1SOfia68EvnrPu2++7X8+477iK7GVrePq6bjoBZB0p4hrr2KMshg2sPiXEE"
    "qvybgbU/h24+roF/Clne5TSyAY5l0AaGCNtoPu0D3AV8ADbCMzbnX89evy6B8u/eXf997+"
    "6Ee70STRK+ANbLZOgXddZlAu8IX7lmwBzSeRWUk1Hbwfqw0ziB9Hl3A6DPu4U4i6IkzAbE"
    "YOlaLGcuXxBiI4jzgU7EpXCe8MAGTuoSaC9GoxtR84LSb7Y0XOspjD/dXgz4JJfQcyeBTO"
    "w5EgPcRQISAFkW8UtewqwFKoA8EZnC3PRDT4MPx5UA/fp2MNZ7tx8TWbjs6QNR0pHWVcp6"
    "cp5aB2ElrX+u9fct8bX1ZTQcSDgJZTNXthj56V800SfoMQIwWQJoxjEJzIEpkWb04Fi8um"
    "ekORm5hTT7jyuV5e1n2YaUAY8+azmnY1Wm65xpnigXVCLSsYin2fTzns5N49NCoUzvc+m0"
    "QCsL7hVxkTXDH9BKYnzNewSxkcc5fKn2ya+mWdg+BnMnsEbtu3AZKrr4lOJD5wNGa5bR74"
    "37vcuBJgGeQON+CV0TJJAWJaRDUpbQN1u06CzSFojhTGIjRiH67IN+h6Z8pc0L9XOivF0m"
    "nN21pxLMDV3g7RLBrATdXgQddRDO4SKlYi6M2aOQCy1KySklV2fmRxGlfPjVyF8ySPG/J/"
    "mfD9iWKOA4qq1ZKG/KBJPzq05kUDLwHBIYMPNi8hdIAMX5GrWoyzifSGnVg5J4zNHxve4m"
    "JyXd4oOSbuacxIGULglftVWZdSbwCE+mOm/ebIA39yoEXJYp3rcp+nyA5gjbK3+RNYQH+s"
    "+DDA3M8JXiV2psQeYd/tMcRebXc/XhDtmQ+XQln9MU3EBo2OwoIjd5dPuFgG2dBNYPKEwY"
    "eiFKQ8Ka+JQphGfXvDaYUQX0NjbhylkuiKkdxXaPhu0qYvDUkq07EWjioa9K9U9xi0Olec"
    "eH+/y1n3dwUr5REUU9Sz3X7MLGHsSzukeh7lEcfPf8BfcoIqQTdxVeKMTSNySa+S7YryCT"
    "4jVHiQWitliC4cBjl9Lrq0aWOJxm0DXm1nckP3uOGSP7vJxHFnsnpYHwVqJur9dWLGZXOr"
    "8IA45xP32jX3p0Sn7p0cn+0mNCzFUWYB09FMzcwH9/+GraAUj04LOe4M8Bhie3vc+vEhz6"
    "ZjT8M3CPYd6/GV2kf1QDZzlvqr/Go2HBXPb90/rFMljrv5Zt0S0RsBzIf5962BB4tiaeZT"
    "ML01PR3h8HSIXApzwVadTbSY0iKkinwrEwRjkP7NKLWlGQuqlV4aZW/H1aAe14mMK7At7f"
    "kZt/maeQjcQidiXyskCf1ZqSqH3ln20XKqELqqQ5GanSXOs0x4Xehk/HeMj+Ho81F20lm2"
    "ASr1rtgtViO6ad2gaLT6s6XSHtIdcy5lrO3o5f0i7b3YGRjzpab9KCbpfswhQyyuJ9mGJK"
    "eRQ7Mbs4nBGLqgLCvvsRoruT/2jCW2S5R4zF+y+xkP1vwRyGz21ts6XC5c3tv8we/wdqON"
    "Oy"
)
