"""What every command shares: settings, runtime, the acting user and error reporting."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from functools import cache

from ..bootstrap import bootstrap
from ..config import ConfigurationError, Settings, load_settings
from ..domain.errors import DeploymentFailed, GolError, ValidationFailed
from ..domain.model import Actor
from ..services.access.roles import SYSTEM as SYSTEM_ROLE
from ..services.workflow.runtime import Runtime

Handler = Callable[[argparse.Namespace], int]


@cache
def settings() -> Settings:
    """Settings from the environment (read once per command)."""
    return load_settings()


@cache
def runtime() -> Runtime:
    """The runtime for this command."""
    return bootstrap(settings())


def cli_actor() -> Actor:
    """The operator running a command: an administrator named after the shell user."""
    name = os.environ.get("GOL_CLI_USER") or _login_name()
    return Actor(username=name, role=SYSTEM_ROLE)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def fail(message: str, code: int = 1) -> int:
    """Print an error to stderr and return its exit status."""
    print(f"error: {message}", file=sys.stderr)
    return code


def run_command(args: argparse.Namespace) -> int:
    """Run a subcommand's handler, turning expected failures into messages and exit codes."""
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigurationError as exc:
        for problem in exc.problems[:-1]:
            print(f"configuration: {problem}", file=sys.stderr)
        return fail(f"configuration: {exc.problems[-1]}", 2)
    except DeploymentFailed as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return fail(exc.message)
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            print(f"{field}: {' '.join(messages)}", file=sys.stderr)
        return fail(exc.message)
    except GolError as exc:
        return fail(exc.message)
    except KeyboardInterrupt:
        return 130
