"""The simulated clock: refused on real time; moved forward it fires every timer and cut-off passed, in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.config import Settings
from gol_workflow.domain.errors import ClockNotSimulated, Forbidden
from gol_workflow.domain.model import Actor
from gol_workflow.services.workflow import clock as sim
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, ROME, deploy_dir
from tests.integration.scheduling_support import (  # noqa: F401 - fixtures
    MEETING_FORMS,
    MEETING_PROCESSES,
    audit_actions,
    complete_schede,
    header,
    meeting,
    ready,
    run_cli,
    scheduling_settings,
    smtp_server,
    start_case,
)


@pytest.fixture
def sim_rt(settings: Settings, smtp_server) -> Iterator[Runtime]:
    """A runtime on the simulated clock (kept in the database), set to Monday 5 January 2026, 08:00."""
    rt = bootstrap(scheduling_settings(settings, smtp_server.port).with_overrides(clock="simulated"))
    deploy_dir(rt, MEETING_PROCESSES, MEETING_FORMS)
    sim.set_clock(rt, datetime(2026, 1, 5, 8, 0, tzinfo=ROME), ADMIN)
    yield rt
    rt.db.dispose()


def test_clock_commands_refuse_on_real_time(test_processes: Runtime, monkeypatch, capsys) -> None:
    rt = test_processes
    for argv in (("clock", "advance", "P5M"), ("clock", "set", "2026-03-01T09:00")):
        code, out, err = run_cli(monkeypatch, rt, capsys, *argv)
        assert code == 1 and out == ""
        assert "only be moved in simulation mode" in err and "GOL_CLOCK=simulated" in err
    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "show")
    assert code == 0 and "[real time (not simulated)]" in out


def test_only_administrators_move_the_clock(sim_rt: Runtime) -> None:
    with pytest.raises(Forbidden):
        sim.advance_clock(sim_rt, "P1D", Actor(username="mario.rossi", role="cpi", zones=frozenset({"nord"})))


def test_the_system_clock_cannot_be_moved_through_the_service_either(test_processes: Runtime, monkeypatch) -> None:
    rt = test_processes
    monkeypatch.setattr(rt, "clock", type("Wall", (), {"now": lambda self: datetime.now(UTC)})())
    with pytest.raises(ClockNotSimulated):
        sim.advance_clock(rt, "P1D", ADMIN)


def test_cli_shows_sets_and_advances_the_simulated_clock(sim_rt: Runtime, monkeypatch, capsys) -> None:
    rt = sim_rt
    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "show", clock_mode="simulated")
    assert code == 0 and "now: 2026-01-05T08:00:00+01:00  [simulated]" in out
    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "advance", "P1DT2H", clock_mode="simulated")
    assert code == 0 and "clock: 2026-01-05T08:00:00+01:00 -> 2026-01-06T10:00:00+01:00" in out
    assert rt.now() == datetime(2026, 1, 6, 10, 0, tzinfo=ROME)
    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "set", "2026-04-01T09:00", clock_mode="simulated")
    assert code == 0 and rt.now() == datetime(2026, 4, 1, 9, 0, tzinfo=ROME)  # local time, summer offset
    assert "-> 2026-04-01T09:00:00+02:00" in out
    code, out, err = run_cli(monkeypatch, rt, capsys, "clock", "advance", "5 mesi", clock_mode="simulated")
    assert code == 1 and "is not an ISO 8601 duration" in err
    code, out, err = run_cli(monkeypatch, rt, capsys, "clock", "set", "domani", clock_mode="simulated")
    assert code == 1 and "is not an ISO 8601 date-time" in err
    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "set", "2026-02-01T09:00", clock_mode="simulated")
    assert code == 0 and "moved back: nothing fired" in out


def test_advance_p12m_walks_a_case_through_its_year_firing_everything_in_order(sim_rt: Runtime, smtp_server,
                                                                             monkeypatch, capsys) -> None:
    rt = sim_rt
    case = start_case(rt, "nord", "rossi")
    move = sim.advance_clock(rt, "P8DT2H", ADMIN)  # to Tuesday 13 January, 10:00
    assert move.report.meetings_convened == ["nord-20260113"] and move.report.mail.sent == 1
    assert "sud-20260115" in move.report.meetings_cancelled  # nothing on the southern agenda
    meeting_instance = meeting(rt, "nord-20260113")["instance_id"]
    [scheda] = ready(rt, meeting_instance)
    assert scheda["created_at"] == datetime(2026, 1, 13, 9, 30, tzinfo=ROME) + sim.STEP  # at the meeting's hour
    complete_schede(rt, meeting_instance)
    assert header(rt, case)["current_step"] == "Attività del percorso"
    started = rt.now()

    code, out, _ = run_cli(monkeypatch, rt, capsys, "clock", "advance", "P12M", clock_mode="simulated")
    assert code == 0, out
    fired = [e for e in audit_actions(rt, "timer.fired") if e["instance_id"] == case]
    due = [datetime.fromisoformat(e["data"]["due_at"]) for e in fired]
    assert len(fired) == 4  # three quarterly reminders, then the 12-month end
    assert due == sorted(due) and due[-1] == datetime(2027, 1, 13, 10, 0, tzinfo=ROME)
    assert all(timedelta(0) < e["at"] - d <= timedelta(milliseconds=1) for e, d in zip(fired, due, strict=True))
    assert [t["name"] for t in ready(rt, case)] == ["Monitoraggio finale"]
    every = [datetime.fromisoformat(e["data"]["due_at"]) for e in audit_actions(rt, "timer.fired")]
    assert every == sorted(every)  # across instances too: each at its moment
    cancelled = [e["data"]["meeting"] for e in audit_actions(rt, "meeting.cancelled")]
    assert "nord-20260120" in cancelled and "nord-20270112" in cancelled and "sud-20261231" in cancelled
    assert len([m for m in cancelled if m.startswith("nord-2026")]) == 50  # every other week of 2026
    assert rt.now() - datetime(2027, 1, 13, 10, 0, tzinfo=ROME) <= timedelta(milliseconds=1)
    assert started < rt.now()
    assert len(smtp_server.mailbox.messages) == 1
