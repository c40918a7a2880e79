"""Who works a user task and who starts a process, as Camunda Modeler writes it in the diagram.

`camunda:candidateGroups` / `camunda:candidateUsers` on a user task, and
`camunda:candidateStarterGroups` / `camunda:candidateStarterUsers` on a process: comma-separated
names (roles for groups, usernames for users). Expressions (`${...}`) are not names: they are
reported by validation and never read as one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
TASK_ATTRIBUTES = ("candidateGroups", "candidateUsers")
PROCESS_ATTRIBUTES = ("candidateStarterGroups", "candidateStarterUsers")


@dataclass(frozen=True)
class Candidates:
    """Roles (groups) and usernames named by one element."""

    groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups or self.users)


def names(value: str | None) -> tuple[str, ...]:
    """The names of a comma-separated attribute value, in order, without blanks or repeats."""
    if not value:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def is_expression(name: str) -> bool:
    """True for a JUEL expression (`${...}` or `#{...}`), which the service does not evaluate."""
    return name.startswith(("${", "#{"))


def _attribute(node: etree._Element, name: str) -> str | None:
    return node.get(f"{{{CAMUNDA_NS}}}{name}")


def task_candidates(node: etree._Element) -> Candidates:
    """The candidate groups and users of a user task element."""
    return Candidates(names(_attribute(node, "candidateGroups")), names(_attribute(node, "candidateUsers")))


def starters(node: etree._Element) -> Candidates:
    """The candidate starter groups and users of a process element."""
    return Candidates(names(_attribute(node, "candidateStarterGroups")),
                      names(_attribute(node, "candidateStarterUsers")))


def declared(node: etree._Element) -> Iterator[tuple[str, str]]:
    """(attribute, name) for every name an element gives in one of these attributes."""
    for attribute in (*TASK_ATTRIBUTES, *PROCESS_ATTRIBUTES):
        for name in names(_attribute(node, attribute)):
            yield attribute, name
