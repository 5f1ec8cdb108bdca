"""The `{name:id}` path convertor, for every database id in a URL (`/notes/{note_id:id}`).

Starlette's `int` convertor matches any run of digits and hands it to int(), which refuses strings of
more than 4,300 digits with a ValueError: a 500 for `/notes/000…0001`. Ids here are 32-bit columns
(at most ten digits), so a longer run names nothing: it does not match the route, a 404 like any
missing note, and int() only ever sees short strings. Values that fit the pattern but not the column
(up to 9,999,999,999) are the routes' own range checks.
"""

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    regex = "[0-9]{1,10}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
