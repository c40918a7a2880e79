"""`gol-workflow users token|tokens|revoke-token`: API access tokens of an account."""

from __future__ import annotations

import argparse

from ..services.access import tokens
from .common import cli_actor, runtime


def register(sub: argparse._SubParsersAction) -> None:
    """Add the token actions to the `users` command."""
    issue = sub.add_parser("token", help="issue a new API token for an account (printed only once)")
    issue.add_argument("username")
    issue.add_argument("--label", default=None, help="what the token is for (shown in listings)")
    issue.set_defaults(handler=_issue)
    listing = sub.add_parser("tokens", help="list an account's API tokens")
    listing.add_argument("username")
    listing.set_defaults(handler=_list)
    revoke = sub.add_parser("revoke-token", help="revoke one API token of an account, or all of them")
    revoke.add_argument("username")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, dest="token_id", help="the token id shown by `users tokens`")
    which.add_argument("--all", action="store_true", help="every active token of the account")
    revoke.set_defaults(handler=_revoke)


def _issue(args: argparse.Namespace) -> int:
    issued = tokens.issue_token(runtime(), args.username, cli_actor(), args.label)
    print(f"token {issued.id} for {issued.username} (shown only now; send it as 'Authorization: Bearer <token>'):")
    print(issued.secret)
    return 0


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"  # type: ignore[attr-defined]


def _list(args: argparse.Namespace) -> int:
    rows = tokens.list_tokens(runtime(), args.username, cli_actor())
    if not rows:
        print(f"{args.username} has no tokens")
        return 0
    print(f"{'id':>5} {'created':<26} {'last used':<26} {'revoked':<26} label")
    for t in rows:
        print(f"{t.id:>5} {_when(t.created_at):<26} {_when(t.last_used_at):<26} {_when(t.revoked_at):<26} "
              f"{t.label or ''}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    count = tokens.revoke_tokens(runtime(), args.username, cli_actor(), None if args.all else args.token_id)
    print(f"revoked {count} token(s) of {args.username}")
    return 0
