from tests.integration.percorso4_support import p4, smtp, LUCIA, profilo  # noqa
from gol_workflow.services.workflow.stepping import load
from gol_workflow.engine import moves
from gol_workflow.engine.runner import subscriptions

def test_dbg(p4):
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(conosciuto=True), "cpi.pistoia")
    with p4.rt.uow(write=False) as uow:
        print("subs before", uow.instances.subscriptions_of(case))
        loaded = load(p4.rt, uow, case)
        h = loaded.handle
        print("baseline", h.subscriptions)
        t = [d for d in moves.done_tasks(h) if d.element_id == "profilazione"][0]
        moves.back_to(h, t.task_id)
        print("after reset", subscriptions(h.workflow), [(str(x.task_spec.bpmn_id), x.state) for x in h.workflow.event_manager.tasks.values()])
        snap = p4.rt.engine.fire_timers(h, p4.rt.now(), None)
        print("snap", snap.subscriptions, snap.ready, snap.error)
