"""Persisted lifecycles at two revisions, measured side by side: did a change make steps cheaper?

One benchmark run on this kind of machine moves by more than a ten per cent change (see the
README), so comparing two runs made at different times says little. Here each revision runs
in its own process, from its own checkout (`git worktree` of the revision in a temporary
folder; HEAD defaults to the work tree as it is, uncommitted changes included) and on its own
scratch database, and the two are handed batches of lifecycles in turn, so that the
machine's ups and downs fall on both alike.

    .venv/bin/python benchmarks/compare_revisions.py BASE [HEAD] [--database postgres|sqlite]
        [--lifecycles 600] [--batch 4] [--postgres URL]

Each process runs its own revision's `benchmarks/engine_throughput.py` lifecycle (start the
5-user-task process, complete its five tasks, one transaction per step).
"""

from __future__ import annotations

import argparse
import os
import contextlib
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.engine_throughput import drop_postgres, fresh_postgres, pick  # noqa: E402

# Runs inside each child: its own checkout first on the path, then batches on request.
WORKER = """
import sys, time
from pathlib import Path
checkout, url, var_dir = sys.argv[1:4]
sys.path[:0] = [checkout, checkout + "/benchmarks"]
import gol_workflow
if not Path(gol_workflow.__file__).resolve().is_relative_to(Path(checkout).resolve()):
    sys.exit(f"gol_workflow was imported from {gol_workflow.__file__}, not from {checkout}")
from engine_throughput import PersistedSeries
series = PersistedSeries(url, Path(var_dir))
print("ready", flush=True)
for line in sys.stdin:
    started = time.perf_counter()
    for _ in range(int(line)):
        series.lifecycle()
    print(time.perf_counter() - started, flush=True)
series.close()
"""


class Revision:
    """One checkout in its own process, running batches when asked."""

    def __init__(self, label: str, checkout: Path, url: str, var_dir: Path) -> None:
        self.label = label
        self.seconds: list[float] = []
        self._process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(checkout), url, str(var_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=checkout,
        )
        self._expect("ready")

    def batch(self, n: int, record: bool = True) -> None:
        """Run `n` lifecycles in the child and keep how long they took."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"{n}\n")
        self._process.stdin.flush()
        seconds = float(self._expect(None))
        if record:
            self.seconds.append(seconds)

    def close(self) -> None:
        """Let the child finish and release its database."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)

    def _expect(self, word: str | None) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line or (word is not None and line != word):
            self._process.kill()
            raise SystemExit(f"{self.label}: the benchmark process stopped (exit status {self._process.wait()})")
        return line


@contextlib.contextmanager
def checkout_of(revision: str | None, target: Path) -> Iterator[Path]:
    """The work tree itself for None, else a worktree of `revision` at `target`, removed afterwards."""
    if revision is None:
        yield ROOT
        return
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(target), revision],
                   check=True)
    try:
        yield target
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(target)], check=False)


def database_url(kind: str, postgres: str, label: str, scratch: Path) -> str:
    """A fresh scratch database for one revision."""
    if kind == "sqlite":
        return f"sqlite:///{scratch}/{label}.sqlite3"
    return fresh_postgres(f"{postgres}_{label}")


def main() -> int:
    """Alternate batches between the two revisions and print their rates and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("head", nargs="?", help="the revision to measure (default: the work tree as it is)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--lifecycles", type=int, default=600, help="lifecycles per revision")
    parser.add_argument("--batch", type=int, default=4, help="lifecycles per batch")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/gol_bench_compare",
                        help="prefix of two scratch PostgreSQL databases (suffixed _base and _head; dropped and recreated)")
    args = parser.parse_args()
    print(f"conditions: each revision in its own process and scratch database, alternating batches; "
          f"{os.cpu_count()} CPUs, load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        with checkout_of(args.base, scratch / "base") as base_tree, checkout_of(args.head, scratch / "head") as head_tree:
            urls = {label: database_url(args.database, args.postgres, label, scratch) for label in ("base", "head")}
            revisions: list[Revision] = []
            try:
                for label, tree in (("base", base_tree), ("head", head_tree)):
                    (scratch / f"var_{label}").mkdir()
                    revisions.append(Revision(label, tree, urls[label], scratch / f"var_{label}"))
                for revision in revisions:  # warm caches and connections
                    revision.batch(args.batch * 5, record=False)
                for i in range(max(1, args.lifecycles // args.batch)):
                    for revision in revisions if i % 2 == 0 else reversed(revisions):
                        revision.batch(args.batch)
            finally:
                for revision in revisions:
                    revision.close()
                if args.database == "postgres":
                    for url in urls.values():
                        drop_postgres(url)
    base, head = revisions
    n = len(base.seconds) * args.batch
    per_base = sum(base.seconds) / n * 1000
    per_head = sum(head.seconds) / n * 1000
    ratios = sorted(h / b for b, h in zip(base.seconds, head.seconds, strict=True))
    print(f"{n} lifecycles per revision on {args.database}, in alternating batches of {args.batch}")
    print(f"base {args.base:<12}: {per_base:6.2f} ms per lifecycle ({1000 / per_base:6.1f}/s)")
    print(f"head {args.head or 'work tree':<12}: {per_head:6.2f} ms per lifecycle ({1000 / per_head:6.1f}/s)")
    print(f"head/base time: {per_head / per_base:.3f}   batch ratios p10 {pick(ratios, 0.1):.3f}, "
          f"median {statistics.median(ratios):.3f}, p90 {pick(ratios, 0.9):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
