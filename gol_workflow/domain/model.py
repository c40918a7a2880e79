"""Value objects that cross layers: statuses, snapshots of a workflow, problems, actors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class InstanceStatus(StrEnum):
    """Life-cycle status of a process instance."""

    RUNNING = "running"  # has user tasks ready to be worked
    WAITING = "waiting"  # waits only for a timer or a message
    SUSPENDED = "suspended"
    ERROR = "error"
    COMPLETED = "completed"
    TERMINATED = "terminated"


ACTIVE_STATUSES = frozenset(
    {InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.SUSPENDED, InstanceStatus.ERROR}
)
ENDED_STATUSES = frozenset({InstanceStatus.COMPLETED, InstanceStatus.TERMINATED})
ENDED = (InstanceStatus.COMPLETED.value, InstanceStatus.TERMINATED.value)  # the same, in a stable order (SQL lists)
MAX_ID = 2**31 - 1  # ids and version numbers are 32-bit integers in the database
MAX_BIG_ID = 2**63 - 1  # 64-bit ids (audit events, incidents)


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as `file:line: element-id: message`."""

    file: str
    line: int | None
    element: str | None
    message: str
    warning: bool = False  # deploys anyway: the model runs, someone should look at it

    def __str__(self) -> str:
        line = self.line if self.line is not None else 0
        return f"{self.file}:{line}: {self.element or '-'}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person, as the inbox projection needs it."""

    id: str
    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_in: str | None
    case_id: str | None
    zone: str | None
    groups: tuple[str, ...] = ()  # roles named on the task itself (camunda:candidateGroups)
    users: tuple[str, ...] = ()  # usernames named on the task itself (camunda:candidateUsers)
    participant: str | None = None  # the equipe participant (service) whose queue alone holds the task


@dataclass(frozen=True)
class OutgoingMessage:
    """A BPMN message thrown by an instance, to be routed to another one."""

    name: str
    payload: Any
    correlations: dict[str, Any]


@dataclass(frozen=True)
class Subscription:
    """A message an instance waits for, with its correlation key."""

    name: str
    correlation: str  # canonical "prop=value;..." text, "" when uncorrelated


@dataclass(frozen=True)
class StepError:
    """Where and why the engine stopped."""

    element_id: str | None
    element_name: str | None
    message: str
    line: int | None = None
    source_line: str | None = None
    retryable: bool = False  # a connector failed: worth retrying automatically
    kind: str = "engine"  # what failed, from the exception's type (see domain.incident_kinds)
    exception: str | None = None  # the name of the innermost exception's type, for the technical detail

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for storage and display."""
        return {
            "element_id": self.element_id,
            "element_name": self.element_name,
            "message": self.message,
            "line": self.line,
            "source_line": self.source_line,
            "retryable": self.retryable,
            "kind": self.kind,
            "exception": self.exception,
        }


@dataclass
class Snapshot:
    """What the service persists after engine steps: state plus its projections."""

    state: str
    status: InstanceStatus
    ready: dict[str, ReadyTask]
    next_due_at: datetime | None
    subscriptions: frozenset[Subscription]
    messages: list[OutgoingMessage] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: StepError | None = None
    waiting: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Actor:
    """The person (or system component) on whose behalf a use case runs."""

    username: str
    role: str
    zones: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    user_id: int | None = None


SYSTEM = Actor(username="sistema", role="system")
