"""Errors the service layer raises; web and CLI turn them into messages."""

from __future__ import annotations


class GolError(Exception):
    """Base class of every expected, user-facing failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(GolError):
    """The thing asked for does not exist (or the caller may not know it exists)."""


class Forbidden(GolError):
    """The caller may not do this."""


class Conflict(GolError):
    """Someone else changed the same thing first, or the request repeats a finished one."""


class OpenCaseExists(Conflict):
    """The person already has an open case of this process (opening a second one needs an administrator)."""

    def __init__(self, message: str, case_id: str) -> None:
        super().__init__(message)
        self.case_id = case_id


class ConcurrentChange(Conflict):
    """Another step changed the same instance between this one's read and its write."""

    MESSAGE = "the instance was changed by someone else at the same time: reload and try again"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class InvalidState(GolError):
    """The operation does not apply to the object in its current state."""


class ValidationFailed(GolError):
    """Submitted data is invalid; `errors` maps a field path to its messages."""

    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.errors = errors


class DeploymentFailed(GolError):
    """Process files did not pass validation; `problems` lists them."""

    def __init__(self, message: str, problems: list[object]) -> None:
        super().__init__(message)
        self.problems = problems


class RefusedInProduction(GolError):
    """An operation meant for local runs and training only (GOL_PRODUCTION is set)."""


class ClockNotSimulated(GolError):
    """The clock commands only work with GOL_CLOCK=simulated."""


class MigrationRefused(InvalidState):
    """An instance cannot move to another process version; `issues` says why."""

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
