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
    "eJztXVtT2zgU/iuavCydyVIawmU7OzuTUNqy5dKBdLctdFzFVmINjuRaSkOmy39fSbZj+U"
    "pMSMjFTzjSOZL8Hck+59OR+VUbUAs5bPsj8hgl0GmZJmKsQ28Rqb0Gv2oEDpC4KBKrgxp0"
    "3UhIFnDYdZSeGygYUGkYfKLSZdyDJhdCPegwJIosxEwPuxxT2TcZOo4spKYQxKQfFQ0J/j"
    "FEoqk+4jbyRMX1N1GMiYXuEAt/urdGDyPHit0GtmTfqtzgY1eVnRD+VgnK3rqGSZ3hgETC"
    "7pjblEykMeGytI8I8iBHsnnuDeXw5eiC2w7vyB9pJOIPUdOxUA8OHa7dbteIymqGcX7RMa"
    "6OO4ZRKwGQSYkEVwyVqbvvyyH83njVPGge7u43D4WIGuak5ODe7zoCxldU8Jx3aveqHnLo"
    "SyiMI1DV3xSsRzb0snEN5RPIiiEnkQ1xLII2LIiwjebTIsAdwDvDQaTPbfHz1c5OAZT/tC"
    "6P3rcut4TUC9klFQvAXybnQVXDr5N4R/iqNWPYkNllUI5rPQ3WzzuNY0jvN6cAer+Zi7Os"
    "isNsQmKMPMwz5nKbUgdBkg10TC+Bc1coruCkLoC2fXFxKlseMPbDUQUnnQTGn87ax2KSK+"
    "iFkERGe45ogHtIQmJAnkb8jajheIByII9pJjC3AtXt8GK9DNA5OTu+6rTOPsas8KbVOZY1"
    "DVU6TpRu7SfWwaQR8O9J5z2QP8HXi/NjBSdlvO+pHiO5zteaHBMccmoQOjKgpWMSFodFMT"
    "OjOxeL5h5h5rjmE5g5eFxVVn56KzuQcWPIHrWck7qVpZfZ0sJQnlHKkdY0HvamH/d0XjV/"
    "WkYovdtMd1qilQb3LfUQ7pMPaKwwPhEjgsTM8jmCUO1T0MxqYXsfzp2wNOrfg6NJRKdPKX"
    "Hr4oaR72Ucta6OWm+OawrgLjRvR9CzjBjSsoY2aKJkIpuuGjQGyRJIYF9hI+9CjjkA/RL1"
    "xEqzc+PnWH29KHD2fMkqYF7RBV4vCJirgG4hAR1zEcnwRQqDuYnOAgO5SUkVyVWR3DJ7fg"
    "wxJm6/nPMXV6r8vwf9vwCwJ3IBr6LWVgvlaT3B+PxaJmdQeeAZTmDomec7f2EIUPl8K7Wo"
    "i3w+adKyGyW6ztr5e81pdkqa+RslzdQ+iQsZG1Gxast61inFNdyZauztTYG3kMoFXNVVft"
    "+06IsbtC6IMw4W2Yr4gcHzIOUGpvyV/FeqtiCzNv9ZRkQWtPP2wyVyIA/clWyfJicDYcVm"
    "R55zk+VuzwjYkzuBywcUoRzNiNI55av4lJkKHmyhgSvuj5hj4xaNZ0TqJGpNRCLrhNm8Y4"
    "FwFeaEBNoiLY4MDC1CrCKEtYkQKmfqoSW77M7TKm6UV6beiMyXysxzTogQr/2szaZicifS"
    "ehTjsGRJLgsgHKrckyr35Nl3HGbIPYmQjuV3zBiSJbNKVvNdsNiATAX8GZFYSATkh2AklJ"
    "hn6HVdoyMymWbQM238E6nroWtpzr6oF5r50vHQIEvan7+6RBX2LTQZCHOn1K7QRGEddymm"
    "Oj/TKDg/00ifn+lSa5wGuIPucmZuKL84fGu1Z3Czjz93Yh52iOHWWevzi5iXfXpx/i4U1z"
    "A/Or1oJ48qwX7Gu+zvq4vznLkcyCcjHGxy8B9wMHsiFy0D8j97Q2JKPEF3iB2OCduW/f31"
    "DKaQ+BSbIol6PR7FyAaSpnAxISjjgV2Y/hYpVflvJfLf9DduCbR1tQrvEnj/RF52ilSuN6"
    "JpzCsMTAP9aqldkop53jSeKhY5lDFzXLMy81KbOR7QlTFzXLM6hbfMVtZD+CnfgbrK4l6C"
    "Sx6aF5ChCq+lYkOXgparJ+hQfVrNwof+xE+Q7STpu8ugqTXCfO5U6ASzHEpUx7SYGjU8Xf"
    "QhjrTWsREQC4gjQAkCgZsOaA9AIFsDNrReA/l5DY4IwARwKS/GJ2CBhEE/godMlZs2JH1R"
    "Y0MOBtBSS1LHfK6d3RB1GTa6pZLSDIHVS3X10pdn2+74RR0wCpCQHE/EITAdjAgHI9G86G"
    "uEPGSBEeY2wAzY4td2rZ5JHF/7qPvrLwxzvs2SydPG/U1hdf9oNHZ3Dxo7u/uHe82Dg73D"
    "nck7JF1V9DJpn7yT75OYO/Aw97siceySv8JjBGTFpm88m/5MEcRm8+nPA/qGM+fPA/rGEu"
    "crD3dF9D7qyb5q3JAWEEzpVmoalVv5MDMUpgDNSAyt2aGjeoIY0ibVMh3LTxxgyiA80kec"
    "8imPxOGq6UiPVhDt/8bAd62z30Vv30GPeoqeQMRyqUC3DiCxFOXg8wIAcwZ62GMceEhMCP"
    "G3T/l2iuyYRyc35IaIeY08MVlBd6wUwnpFfwwZ8ukRgYWvXy8iUkZSRykGrdwQ9SlV5o/H"
    "pANXbUkETAgPuRHQReIOAvZFb1NoDITYa8mwhMPATLRuUs8S7eDeDZEtU+KIip6SUfwMgB"
    "7aBpIg8pcZiKY3sJApzCxHi01b0kV8RIGwsAA6HDcDdEREI7LDfKZGp0pD5OW1nDhJyuZa"
    "PwRQLievInAWReDoRpyWcdB11iIojpMOe9NwDnv5lMNeinEIHqvT4huIryG0czlS0RP9I8"
    "/1Ss7ihNoaoj2HD9JxyIcZfM7VADpO/ge0JlqPcs2XbA8+eG7vNg72J09q+aPo2Xx11jo9"
    "TUezNoIW8krxY5rKcqScym7XJuU0mxpuYwK9cSlyuDsOPuiwWnO7yL0IIJzgLeBun5y3Lr"
    "9k08PtDMjbXzrHrYrR2URGpzpJvBFmrpK6qqSuhayWuSZ1zZO8ayEPm3Ytg7QLaupFZB2M"
    "ZKrv5qzSgq4XcDC5STT5wWt+Fs06BK5zoQnkoiqBcCC+hujO5V+8iR555vdD8kNZTaXK9i"
    "gZtKb8g0W+zO7/B3H/ETg="
)
