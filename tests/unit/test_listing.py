"""The list queries' WHERE clause (services/common/listing.py), rendered without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.listing import Where

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def text(where: Where) -> str:
    return where.clause().as_string(None)


def test_an_empty_where_is_true():
    assert text(Where()) == "TRUE"
    assert Where().params == {}


def test_required_equalities_come_first_and_a_missing_one_raises():
    where = Where(mall_id="m1", username="li")

    assert text(where) == '"mall_id" = %(mall_id)s AND "username" = %(username)s'
    assert where.params == {"mall_id": "m1", "username": "li"}
    with pytest.raises(ValueError, match="mall_id"):
        Where(mall_id=None)


def test_filters_not_asked_for_are_left_out():
    where = Where(mall_id="m1").equal("status", None).at_least("received_at", None).add("x = %(x)s", x=None)

    assert text(where) == '"mall_id" = %(mall_id)s'
    assert where.params == {"mall_id": "m1"}


def test_comparisons_name_their_parameter_after_the_column_unless_told():
    where = Where().equal("status", "open").at_least("received_at", AT, "received_from")
    where.before("received_at", AT, "received_before").any_of("queue", ("a", "b"), "queues")

    assert text(where) == (
        '"status" = %(status)s AND "received_at" >= %(received_from)s'
        ' AND "received_at" < %(received_before)s AND "queue" = ANY(%(queues)s)'
    )
    assert where.params == {
        "status": "open",
        "received_from": AT,
        "received_before": AT,
        "queues": ["a", "b"],
    }


def test_a_table_alias_qualifies_every_column():
    where = Where("c", mall_id="m1").keyset("received_at", (AT, "id-1"), newest_first=True)

    assert text(where) == (
        '"c"."mall_id" = %(mall_id)s AND ("c"."received_at", "c"."id") < (%(after_at)s, %(after_id)s)'
    )


def test_column_names_are_quoted_never_pasted():
    where = Where().equal('status" OR TRUE --', "x", "status")

    assert text(where) == '"status"" OR TRUE --" = %(status)s'


@pytest.mark.parametrize(("newest_first", "operator"), [(True, "<"), (False, ">")])
def test_the_keyset_page_follows_the_order(newest_first, operator):
    where = Where().keyset("created_at", (AT, "id-1"), newest_first=newest_first)

    assert text(where) == f'("created_at", "id") {operator} (%(after_at)s, %(after_id)s)'
    assert where.params == {"after_at": AT, "after_id": "id-1"}


def test_the_keyset_tie_breaker_may_be_another_column():
    where = Where().keyset("closed_at", (AT, "c-1"), newest_first=False, id_column="complaint_id")

    assert text(where) == '("closed_at", "complaint_id") > (%(after_at)s, %(after_id)s)'


def test_the_first_page_has_no_keyset_condition():
    assert text(Where().keyset("created_at", None, newest_first=True)) == "TRUE"


def test_scope_limits_to_the_callers_floors_or_departments():
    where = Where().in_scope(("1F",), None)

    assert text(where) == '("floor" = ANY(%(scope_floors)s) OR "department" = ANY(%(scope_departments)s))'
    assert where.params == {"scope_floors": ["1F"], "scope_departments": []}
    assert text(Where().in_scope(None, None)) == "TRUE"


def test_a_parameter_used_twice_is_refused():
    with pytest.raises(ValueError, match="received_at"):
        Where().at_least("received_at", AT).before("received_at", AT)
