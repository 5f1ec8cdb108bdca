"""SQL conditions the ORM's lookups cannot spell, combined with its filters into one WHERE clause.

The values are rendered by pypika as query parameters ($1, ?), never pasted into the text.
"""

from typing import LiteralString

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion, ValueWrapper
from tortoise.expressions import Q, ResolveContext
from tortoise.query_utils import QueryModifier


class _SqlCriterion(Criterion):
    """SQL text with a `{}` for each value, in order."""

    def __init__(self, template: LiteralString, *values: object) -> None:
        super().__init__()
        self.template = template
        self.values = values

    def get_sql(self, ctx: SqlContext) -> str:
        # Rendered left to right, so positional parameters (SQLite's ?) come in the template's order.
        return self.template.format(*(ValueWrapper(value).get_sql(ctx) for value in self.values))


class Sql(Q):
    """A Q node for a condition in SQL, so it combines with the ORM's own filters like any Q."""

    __slots__ = ("criterion",)

    def __init__(self, template: LiteralString, *values: object) -> None:
        super().__init__()
        self.criterion = _SqlCriterion(template, *values)

    def __bool__(self) -> bool:
        return True  # Q counts a node without kwargs or children as empty

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        return QueryModifier(where_criterion=self.criterion)
