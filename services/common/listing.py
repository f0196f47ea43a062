"""The WHERE clause of a list query: its filters, the caller's scope and the keyset page.

Every list builds its conditions here, so a filter not asked for (None) is left out the same way
everywhere, the page after a cursor is one condition, and column names reach the SQL only as
`sql.Identifier` (never pasted). The values always go as named parameters (`params`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg import sql


class Where:
    """Conditions joined with AND, and the named parameters they use.

    `required` are the equalities every row must meet (the mall, the user): a None there is a bug
    and raises rather than widening the list. `table` qualifies the column names (an alias).
    """

    def __init__(self, table: str | None = None, **required: Any):
        self.table = table
        self.conditions: list[sql.Composable] = []
        self.params: dict[str, Any] = {}
        for column, value in required.items():
            if value is None:
                raise ValueError(f"{column} is required in a list query")
            self.equal(column, value)

    def column(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.table, name) if self.table else sql.Identifier(name)

    def add(self, condition: str | sql.Composable, **params: Any) -> Where:
        """A condition of its own (params are the placeholders it names); left out when one of
        the values is None, that is, when that filter was not asked for."""
        if any(value is None for value in params.values()):
            return self
        for name, value in params.items():
            if name in self.params:
                raise ValueError(f"the parameter {name} is used twice")
            self.params[name] = value
        self.conditions.append(sql.SQL(condition) if isinstance(condition, str) else condition)
        return self

    def equal(self, column: str, value: Any, param: str | None = None) -> Where:
        return self._compare(column, "=", value, param)

    def at_least(self, column: str, value: Any, param: str | None = None) -> Where:
        return self._compare(column, ">=", value, param)

    def before(self, column: str, value: Any, param: str | None = None) -> Where:
        return self._compare(column, "<", value, param)

    def any_of(self, column: str, values: Iterable[Any] | None, param: str | None = None) -> Where:
        name = param or column
        condition = sql.SQL("{} = ANY({})").format(self.column(column), sql.Placeholder(name))
        return self.add(condition, **{name: None if values is None else list(values)})

    def in_scope(
        self,
        floors: Iterable[str] | None,
        departments: Iterable[str] | None,
        also: sql.Composable | None = None,
    ) -> Where:
        """Rows of the caller's floors or departments (or meeting `also`, which may read the same
        `scope_floors` and `scope_departments`); no limit when the caller has no scope."""
        if floors is None and departments is None:
            return self
        condition = sql.SQL("({} = ANY(%(scope_floors)s) OR {} = ANY(%(scope_departments)s){})").format(
            self.column("floor"), self.column("department"), sql.SQL(" OR ") + also if also else sql.SQL("")
        )
        return self.add(condition, scope_floors=list(floors or ()), scope_departments=list(departments or ()))

    def keyset(
        self, column: str, after: tuple[datetime, str] | None, newest_first: bool, id_column: str = "id"
    ) -> Where:
        """The page after the cursor's row (its `column` value and id) in the order
        `column, id_column` (DESC both when newest_first): the query's ORDER BY must be that order."""
        if after is None:
            return self
        after_at, after_id = after
        condition = sql.SQL("({}, {}) {} (%(after_at)s, %(after_id)s)").format(
            self.column(column), self.column(id_column), sql.SQL("<" if newest_first else ">")
        )
        return self.add(condition, after_at=after_at, after_id=after_id)

    def clause(self) -> sql.Composable:
        """The conditions joined with AND; TRUE when there are none."""
        return sql.SQL(" AND ").join(self.conditions) if self.conditions else sql.SQL("TRUE")

    def _compare(self, column: str, operator: str, value: Any, param: str | None) -> Where:
        name = param or column
        condition = sql.SQL("{} {} {}").format(self.column(column), sql.SQL(operator), sql.Placeholder(name))
        return self.add(condition, **{name: value})
