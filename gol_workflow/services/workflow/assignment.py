"""Who a ready task is for and who may start a process, from what the process declares."""

from __future__ import annotations

from ...domain.model import ReadyTask
from ...engine.camunda_assignment import Candidates
from ..access import lanes
from ..access.lanes import LaneMap
from .runtime import ProcessVersion


def lane_map(version: ProcessVersion) -> LaneMap:
    """The lanes.toml a version was deployed with, else the processes folder's."""
    return version.lanes if version.lanes is not None else lanes.current()


def stored(names: tuple[str, ...] | frozenset[str]) -> str:
    """Names as the inbox stores them: `,a,b,` (`,` for none, so that nobody is matched)."""
    return "," + "".join(f"{name}," for name in sorted(names))


def task_audience(version: ProcessVersion, task: ReadyTask) -> dict[str, str | None]:
    """The `roles` and `users` columns of a ready task: its lane's roles and its own candidates."""
    roles = lane_map(version).roles_of(task.lane) | set(task.groups)
    return {"roles": stored(frozenset(roles)), "users": stored(task.users) if task.users else None}


def starters(version: ProcessVersion) -> Candidates:
    """Who may start a version: its process's candidate starters and the lane file's [starters]."""
    declared = version.compiled.starters
    listed = lane_map(version).starters.get(version.process_id, frozenset())
    return Candidates(tuple(dict.fromkeys((*declared.groups, *sorted(listed)))), declared.users)
