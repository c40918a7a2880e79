"""`gol-workflow retention`: anonymise the closed cases whose retention period has passed (or only list them)."""

from __future__ import annotations

import argparse

from ..services.data_protection import retention
from . import common


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `retention` command."""
    parser = commands.add_parser(
        "retention", help="anonymise closed cases past their zone's retention period (the scheduler does it daily)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="list what would be anonymised; change nothing")
    mode.add_argument("--run", action="store_true", help="anonymise now and delete the cases' documents")
    mode.add_argument("--list", action="store_true", help="show the latest retention runs")
    parser.set_defaults(handler=_retention)


def _retention(args: argparse.Namespace) -> int:
    rt = common.runtime()
    actor = common.cli_actor()
    if args.list:
        for row in retention.runs(rt, actor, 20):
            print(f"{row['id']:>5}  {row['started_at']:%Y-%m-%d %H:%M}  {row['mode']:<9}  {row['status']:<7}  "
                  f"{row['cases_anonymised']} anonymised, {row['cases_held']} held, "
                  f"{row['attachments_deleted']} documents deleted  by {row['started_by']}")
        return 0
    report = retention.run(rt, actor, dry_run=args.dry_run)
    verb = "would anonymise" if args.dry_run else "anonymised"
    for line in report.rows():
        ended = str(line.get("ended_at") or "")[:10]
        extra = f", {line.get('attachments', 0)} document(s)" if line["action"] != "held" else ", legal hold"
        print(f"{line['action']:<16} case {line['case']} (zone {line['zone'] or '-'}, closed {ended}{extra})")
    print(f"run {report.run_id}: {verb} {len(report.anonymised)} case(s), {report.attachments} document(s) "
          f"({report.bytes} bytes); {len(report.held)} held; {len(report.failed)} failed")
    return 1 if report.failed else 0
