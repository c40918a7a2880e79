"""PostgreSQL: how a step's waiting writes become one statement, and when they must not."""

from __future__ import annotations

from gol_workflow.persistence.write_behind import Join, joined


def _insert(table: str, key: str | None, *values: object) -> Join:
    marks = "(" + ", ".join("%s" for _ in values) + ")"
    keys = frozenset({(table, key)}) if key else frozenset()
    return Join(f"INSERT INTO {table} (a, b) VALUES ", tuple(values), keys, values=marks, rows=1)


def test_writes_become_the_members_of_one_statement_with_their_checks_last() -> None:
    update = Join("UPDATE instances SET s = %s WHERE id = %s RETURNING 1", ("x", "i1"),
                  frozenset({("instances", "i1")}), must_match="instance i1")
    delete = Join("DELETE FROM tasks WHERE id = ANY(%s)", (["t1"],), frozenset({("tasks", "t1")}))
    sql, params = joined([update, delete, _insert("audit_events", None, 1, 2)])
    assert sql == (
        "WITH w0 AS (UPDATE instances SET s = %s WHERE id = %s RETURNING 1), "
        "w1 AS (DELETE FROM tasks WHERE id = ANY(%s)), "
        "w2 AS (INSERT INTO audit_events (a, b) VALUES (%s, %s)) "
        "SELECT gol_expect_one_row((SELECT count(*) FROM w0), %s)"
    )
    assert params == ["x", "i1", ["t1"], 1, 2, "instance i1"]


def test_inserts_into_one_table_merge_into_one_member_in_their_order() -> None:
    delete = Join("DELETE FROM tasks WHERE id = ANY(%s)", (["t1"],), frozenset({("tasks", "t1")}))
    sql, params = joined([_insert("audit_events", None, 1, 2), delete, _insert("audit_events", None, 3, 4)])
    assert sql == ("WITH w0 AS (INSERT INTO audit_events (a, b) VALUES (%s, %s), (%s, %s)), "
                   "w1 AS (DELETE FROM tasks WHERE id = ANY(%s)) SELECT 1")
    assert params == [1, 2, 3, 4, ["t1"]]


def test_a_lone_write_is_sent_as_it_is() -> None:
    assert joined([_insert("tasks", "t1", 1, 2)]) == ("INSERT INTO tasks (a, b) VALUES (%s, %s)", [1, 2])


def test_writes_that_touch_the_same_row_are_not_joined() -> None:
    delete = Join("DELETE FROM tasks WHERE id = ANY(%s)", (["t1"],), frozenset({("tasks", "t1")}))
    assert joined([delete, _insert("tasks", "t1", 1, 2)]) is None
    assert joined([_insert("tasks", "t1", 1, 2), _insert("tasks", "t2", 3, 4)]) is not None
