"""One transaction per use case: a step that loses a race or collides writes nothing of its own."""

from __future__ import annotations

import pytest

from gol_workflow.domain.errors import ConcurrentChange
from gol_workflow.persistence.errors import DuplicateRow
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import stepping
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, on_postgres


def _first_task(rt: Runtime, instance_id: str) -> dict:
    with rt.uow(write=False) as uow:
        return dict(uow.inbox.for_instance(instance_id)[0])


def test_a_step_that_lost_the_race_writes_nothing(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with pytest.raises(ConcurrentChange, match="changed by someone else"):
        with rt.uow() as uow:
            found = uow.inbox.get_with_instance(task["id"])
            assert found is not None
            # As if another step had moved the instance on between this step's read and its write.
            stale = {**found[1], "row_version": int(found[1]["row_version"]) + 7}
            loaded = stepping.load(rt, uow, instance_id, header=stale)
            snapshot = rt.engine.complete_task(loaded.handle, task["id"], {"nota": "tardi"}, now)
            stepping.save(rt, uow, loaded, snapshot, now, ADMIN, "task.completed", task_id=task["id"])
            uow.commit()
    with rt.uow(write=False) as uow:
        assert [t["id"] for t in uow.inbox.for_instance(instance_id)] == [task["id"]]
        assert [e["action"] for e in uow.audit.for_instance(instance_id)] == ["instance.started"]
        row = uow.instances.header(instance_id)
        assert row is not None and row["row_version"] == 1 and row["current_step"] == "Passo 1"


def test_a_collision_inside_a_savepoint_fails_the_block_and_spares_the_rest(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with rt.uow() as uow:
        with pytest.raises(DuplicateRow):
            with uow.savepoint():
                uow.audit.record(now, "admin", "repair.attempted", instance_id)
                uow.inbox.add([task])  # the same task id again
        uow.audit.record(now, "admin", "repair.skipped", instance_id)
        uow.commit()
    with rt.uow(write=False) as uow:
        actions = [e["action"] for e in uow.audit.for_instance(instance_id)]
        assert actions == ["instance.started", "repair.skipped"]
        assert len(uow.inbox.for_instance(instance_id)) == 1


def test_reads_see_the_writes_queued_before_them(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    now = rt.now()
    with rt.uow() as uow:
        uow.audit.record(now, "admin", "note.added", instance_id, data={"testo": "prima"})
        # Read back in the same transaction, through SQLAlchemy, before anything was committed.
        assert [e["action"] for e in uow.audit.for_instance(instance_id)][-1] == "note.added"
        uow.rollback()
    with rt.uow(write=False) as uow:
        assert [e["action"] for e in uow.audit.for_instance(instance_id)] == ["instance.started"]


def test_a_reading_use_case_that_writes_keeps_its_writes_together(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with pytest.raises(RuntimeError):
        with rt.uow(write=False) as uow:
            assert uow.inbox.get(task["id"]) is not None
            uow.inbox.save_draft(task["id"], {"nota": "bozza"})  # a write straight through SQLAlchemy
            uow.audit.record(now, "admin", "case.read", instance_id)
            raise RuntimeError("the page failed after writing")
    with rt.uow(write=False) as uow:
        uow.audit.record(now, "admin", "case.read", instance_id)
        assert uow.inbox.get(task["id"])["draft"] is None  # a read after the write, in its transaction
        # ...and the use case ends without committing: nothing of it is kept.
    with rt.uow(write=False) as uow:
        assert [e["action"] for e in uow.audit.for_instance(instance_id)] == ["instance.started"]
        uow.audit.record(now, "admin", "case.read", instance_id)
        uow.commit()
    with rt.uow(write=False) as uow:
        assert [e["action"] for e in uow.audit.for_instance(instance_id)] == ["instance.started", "case.read"]


def test_a_step_holds_its_transaction_open_only_while_it_writes(test_processes: Runtime) -> None:
    if not on_postgres():
        pytest.skip("PostgreSQL only: SQLite takes its write lock when the unit of work begins")
    from psycopg.pq import TransactionStatus

    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with rt.uow() as uow:
        driver = uow.conn.connection.dbapi_connection
        assert uow.inbox.get_with_instance(task["id"]) is not None
        assert uow.instances.header(instance_id) is not None  # through SQLAlchemy, too
        # Both reads ran on their own: the engine's work that follows holds no transaction open.
        assert driver.info.transaction_status == TransactionStatus.IDLE
        uow.audit.record(now, "admin", "note.added", instance_id)
        assert driver.info.transaction_status == TransactionStatus.IDLE  # the write waits for the commit...
        assert [e["action"] for e in uow.audit.for_instance(instance_id)][-1] == "note.added"
        assert driver.info.transaction_status == TransactionStatus.INTRANS  # ...or for the next read
        uow.commit()
    with rt.uow(write=False) as uow:
        assert [e["action"] for e in uow.audit.for_instance(instance_id)] == ["instance.started", "note.added"]


def test_writes_to_the_same_row_keep_their_order(test_processes: Runtime) -> None:
    # On PostgreSQL a step's writes travel as one statement, whose parts run in no set order:
    # writes that touch the same row must still take effect in the order the code made them.
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with rt.uow() as uow:
        uow.inbox.remove([task["id"]])
        uow.inbox.add([{**task, "name": "Passo 1 (rifatto)"}])  # the same id again
        uow.audit.record(now, "admin", "task.recreated", instance_id, task["id"])
        uow.commit()
    with rt.uow() as uow:
        uow.inbox.add([{**task, "id": "d5f0c0de-0000-4000-8000-000000000001"}])
        uow.inbox.remove(["d5f0c0de-0000-4000-8000-000000000001"])
        uow.commit()
    with rt.uow(write=False) as uow:
        assert [(t["id"], t["name"]) for t in uow.inbox.for_instance(instance_id)] == [(task["id"], "Passo 1 (rifatto)")]


def test_the_rows_a_step_appends_keep_the_order_they_were_made_in(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = _first_task(rt, instance_id)
    now = rt.now()
    with rt.uow() as uow:
        uow.audit.record(now, "admin", "first", instance_id)
        uow.inbox.remove([task["id"]])
        uow.audit.record(now, "admin", "second", instance_id)
        uow.inbox.add([{**task, "id": "d5f0c0de-0000-4000-8000-000000000002"}])
        uow.audit.record(now, "admin", "third", instance_id)
        uow.commit()
    with rt.uow(write=False) as uow:
        events = uow.audit.for_instance(instance_id)
        assert [e["action"] for e in events] == ["instance.started", "first", "second", "third"]
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert [t["id"] for t in uow.inbox.for_instance(instance_id)] == ["d5f0c0de-0000-4000-8000-000000000002"]
