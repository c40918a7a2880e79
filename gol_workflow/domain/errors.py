"""Errors the service layer raises; web and CLI turn them into messages.

Each failure is a type carrying its facts and a stable `code` (kebab-case): pages and
clients decide on the type or the code, never on the English message.
"""

from __future__ import annotations

from datetime import datetime


class GolError(Exception):
    """Base class of every expected, user-facing failure."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(GolError):
    """The thing asked for does not exist (or the caller may not know it exists)."""

    code = "not-found"


class Forbidden(GolError):
    """The caller may not do this."""

    code = "forbidden"


class Conflict(GolError):
    """Someone else changed the same thing first, or the request repeats a finished one."""

    code = "conflict"


class OpenCaseExists(Conflict):
    """The person already has an open case of this process (opening a second one needs an administrator).

    `case_id` names it only to someone who may see it: to anyone else the open case stays unnamed.
    """

    code = "open-case-exists"

    def __init__(self, message: str, case_id: str | None) -> None:
        super().__init__(message)
        self.case_id = case_id

    def hidden(self) -> "OpenCaseExists":
        """The same refusal without the case it names."""
        return OpenCaseExists("this codice fiscale already has an open case this caller may not see", None)


class ConcurrentChange(Conflict):
    """Another step changed the same instance between this one's read and its write."""

    code = "changed-meanwhile"
    MESSAGE = "the instance was changed by someone else at the same time: reload and try again"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class TaskNoLongerOpen(Conflict):
    """The task is no longer open: the case moved on without it (a deadline, a cancellation)."""

    code = "no-longer-open"
    MESSAGE = "this task is no longer open: the case moved on"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class TaskAlreadyCompleted(TaskNoLongerOpen):
    """The task was completed already (by `by` at `at`, when the audit log knows)."""

    code = "already-completed"
    MESSAGE = "this task was already completed by someone else"

    def __init__(self, by: str | None = None, at: datetime | None = None) -> None:
        super().__init__(self.MESSAGE if by is None else f"this task was already completed by {by}")
        self.by = by
        self.at = at


class TaskHeldByOther(Conflict):
    """Another person holds (has taken) the task."""

    code = "task-held"

    def __init__(self, assignee: str | None) -> None:
        super().__init__(f"this task is taken by {assignee}" if assignee else "someone took this task a moment ago")
        self.assignee = assignee


class AlreadyExists(Conflict):
    """Something with the same name exists already."""

    code = "already-exists"


class InvalidState(GolError):
    """The operation does not apply to the object in its current state."""

    code = "invalid-state"


class StatusRefused(InvalidState):
    """The operation needs another status of the instance (or batch); `status` is the current one."""

    code = "status-refused"

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotSuspended(StatusRefused):
    """Only a suspended instance can be resumed or have its data edited."""

    code = "not-suspended"


class NotInError(StatusRefused):
    """Only an instance in error can have its failed step retried."""

    code = "not-in-error"


class CannotSuspend(StatusRefused):
    """The instance cannot be suspended in its status."""

    code = "cannot-suspend"


class AlreadyEnded(StatusRefused):
    """The instance (or batch) has ended already."""

    code = "already-ended"


class CaseNotActive(StatusRefused):
    """The case is suspended, failed or closed: its tasks cannot be completed now."""

    code = "case-not-active"


class SkipRefused(InvalidState):
    """The failed element decides the path or calls a subprocess: it cannot be completed without running it."""

    code = "skip-refused"


class IncidentClosed(InvalidState):
    """The incident is resolved already: nothing more can be done from it."""

    code = "incident-resolved"


class StillInError(InvalidState):
    """The incident's instance is still in error: retry, skip, move or terminate it rather than close the incident."""

    code = "still-in-error"


class WrongTargetVersion(InvalidState):
    """A migration may only move an instance to a newer version of its own process."""

    code = "wrong-target-version"


class ValidationFailed(GolError):
    """Submitted data is invalid; `errors` maps a field path to its messages."""

    code = "validation-failed"

    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.errors = errors


class InvalidJson(ValidationFailed):
    """Edited text is not JSON; `line` and `column` say where."""

    code = "invalid-json"

    def __init__(self, line: int, column: int, detail: str) -> None:
        super().__init__("invalid JSON", {"dati": [f"line {line}, column {column}: {detail}"]})
        self.line = line
        self.column = column


class InputRefused(ValidationFailed):
    """Input refused as a whole for one reason: `reason` is a stable code, `subject` what it concerns (a file)."""

    code = "input-refused"

    def __init__(self, reason: str, message: str, errors: dict[str, list[str]], subject: str | None = None) -> None:
        super().__init__(message, errors)
        self.reason = reason
        self.subject = subject


class DeploymentFailed(GolError):
    """Process files did not pass validation; `problems` lists them."""

    code = "deployment-failed"

    def __init__(self, message: str, problems: list[object]) -> None:
        super().__init__(message)
        self.problems = problems


class RefusedInProduction(GolError):
    """An operation meant for local runs and training only (GOL_PRODUCTION is set)."""


class ClockNotSimulated(GolError):
    """The clock commands only work with GOL_CLOCK=simulated."""

    code = "clock-not-simulated"


class MigrationRefused(InvalidState):
    """An instance cannot move to another process version; `issues` says why."""

    code = "migration-refused"

    def __init__(self, message: str, issues: list[object]) -> None:
        super().__init__(message)
        self.issues = issues


class StepTimedOut(GolError):
    """A scheduled step did not finish within the scheduler's time limit (it is left to finish on its own)."""


class ConfirmationNeeded(ValidationFailed):
    """Submitted data holds something the person must confirm (e.g. a codice fiscale that differs
    from the person's data); `confirmations` names the warnings, `errors` carries their messages."""

    def __init__(self, message: str, errors: dict[str, list[str]], confirmations: list[str]) -> None:
        super().__init__(message, errors)
        self.confirmations = confirmations


class MoveRefused(InvalidState):
    """A case cannot be moved this way; `reason` is a stable code, `element` the element it concerns,
    `detail` what the engine said (e.g. the step that would fail)."""

    code = "move-refused"

    def __init__(self, reason: str, message: str, element: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.element = element
        self.detail = detail


class EditRefused(ValidationFailed):
    """A data edit the process does not allow: `errors` maps each field (`changes.<field>`) to its messages."""

    code = "edit-refused"


class CaseAnonymised(InvalidState):
    """The case's personal data were removed by retention: there is nothing left to hold."""

    code = "case-anonymised"
