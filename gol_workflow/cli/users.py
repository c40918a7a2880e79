"""`gol-workflow users`: add, change, disable, enable and list local accounts, and end their sessions."""

from __future__ import annotations

import argparse
import sys

from ..services.access import authorization, users
from ..services.mail import notifications
from . import tokens
from .common import cli_actor, runtime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `users` command."""
    parser = commands.add_parser("users", help="manage operator accounts")
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="create an account (prints a generated password once)")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="a role of the role file (processes/roles.toml)")
    add.add_argument("--zone", action="append", default=[], help="a zone the user works in (repeatable)")
    add.add_argument("--service", action="append", default=[], help="a specialist service (repeatable)")
    add.add_argument("--name", default=None, help="full name shown in the interface")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--email", default=None, help="where notices of new and overdue tasks go")
    add.set_defaults(handler=_add)
    for verb, active in (("disable", False), ("enable", True)):
        cmd = sub.add_parser(verb, help=f"{verb} an account")
        cmd.add_argument("username")
        cmd.set_defaults(handler=_set_active, active=active)
    notify = sub.add_parser("notifications", help="how an account hears of new and overdue tasks")
    notify.add_argument("username")
    notify.add_argument("--mode", choices=notifications.MODES, default=None,
                        help="digest (daily, the default), immediate (one e-mail per task) or none")
    notify.add_argument("--email", default=None, help="the address notices go to ('' removes it)")
    notify.set_defaults(handler=_notifications)
    password = sub.add_parser("set-password", help="give an account a new password (prints a generated one "
                              "once); its open sessions end")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(handler=_set_password)
    change = sub.add_parser("update", help="change an account's role, zones or services; its open sessions end")
    change.add_argument("username")
    change.add_argument("--role", default=None, help="a role of the role file (processes/roles.toml)")
    change.add_argument("--zone", action="append", default=None, help="the zones (repeatable; replaces them all)")
    change.add_argument("--no-zones", action="store_true", help="remove every zone")
    change.add_argument("--service", action="append", default=None, help="the services (repeatable; replaces them)")
    change.add_argument("--no-services", action="store_true", help="remove every service")
    change.set_defaults(handler=_update)
    logout = sub.add_parser("end-sessions", help="log an account out of every browser")
    logout.add_argument("username")
    logout.set_defaults(handler=_end_sessions)
    listing = sub.add_parser("list", help="list accounts")
    listing.set_defaults(handler=_list)
    tokens.register(sub)


def _add(args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    user, generated = users.add_user(runtime(), args.username, args.role, cli_actor(), args.zone, args.service,
                                     password, args.name)
    print(f"created {user.username} ({user.role}; zones: {', '.join(user.zones) or '-'};"
          f" services: {', '.join(user.services) or '-'})")
    if args.email:
        notifications.set_preferences(runtime(), user.username, notifications.DIGEST, cli_actor(), args.email)
    if generated:
        print(f"password (shown only now): {generated}")
    return 0


def _notifications(args: argparse.Namespace) -> int:
    rt, who = runtime(), cli_actor()
    current = notifications.preferences_of(rt, args.username, who)
    prefs = current
    if args.mode is not None or args.email is not None:
        prefs = notifications.set_preferences(rt, args.username, args.mode or current.mode, who, args.email)
    print(f"{args.username}: notifications {prefs.mode}, e-mail {prefs.email or '(none: nothing is sent)'}")
    return 0


def _set_active(args: argparse.Namespace) -> int:
    user = users.set_active(runtime(), args.username, args.active, cli_actor())
    print(f"{user.username} is now {'enabled' if user.active else 'disabled'}")
    return 0


def _set_password(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    user, generated = users.set_password(runtime(), args.username, password, cli_actor())
    print(f"password of {user.username} changed; its open sessions ended")
    if generated:
        print(f"password (shown only now): {generated}")
    return 0


def _update(args: argparse.Namespace) -> int:
    zones = [] if args.no_zones else args.zone
    services = [] if args.no_services else args.service
    user = users.change_access(runtime(), args.username, cli_actor(), args.role, zones, services)
    print(f"{user.username}: {user.role}; zones: {', '.join(user.zones) or '-'};"
          f" services: {', '.join(user.services) or '-'}")
    return 0


def _end_sessions(args: argparse.Namespace) -> int:
    count = users.end_sessions(runtime(), args.username, cli_actor())
    print(f"{count} session(s) of {args.username} ended")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = users.list_users(runtime(), cli_actor())
    if not rows:
        print("no users")
        return 0
    print(f"{'username':<24} {'role':<11} {'active':<7} {'zones':<28} services")
    for u in rows:
        role = "(pending)" if u.pending else u.role  # known through single sign-on, waiting for a role
        print(f"{u.username:<24} {role:<11} {'yes' if u.active else 'no':<7} {','.join(u.zones) or '-':<28} "
              f"{','.join(u.services) or '-'}")
    return 0
