"""What rewriting and reading a case's workflow state costs with pglz and with lz4 (migration 0003), on PostgreSQL.

Real states are read from a data set (national_dataset.py: Percorso 4 cases at every step of
their year), those of about `--kb` kB of JSON; two scratch tables in a schema of their own on
the scratch database, one per compression method, each with the `instances` table's 30 % free
space, get the same rows. Then each row's state is rewritten (a one-row UPDATE, autocommit, as
a step's write) and read back (`SELECT state`), the two tables in turn, so that the machine's
ups and downs fall on both alike; each round is one transaction, so a statement's time is the
server compressing, storing and logging the state, without the commit's fsync (the same for
both). The schema is dropped at the end.

    .venv/bin/python benchmarks/state_compression.py [--dataset URL] [--postgres URL] [--kb 55] [--rows 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import psycopg

SCHEMA = "gol_state_compression"


def states(dataset: str, kb: int, rows: int) -> list[str]:
    """Percorso 4 states of about `kb` kB of JSON from the data set (read only)."""
    low, high = int(kb * 1024 * 0.9), int(kb * 1024 * 1.1)
    with psycopg.connect(dataset) as conn:
        found = [r[0] for r in conn.execute(
            "SELECT state FROM instances TABLESAMPLE SYSTEM (2) WHERE process_id = 'percorso4' "
            "AND octet_length(state) BETWEEN %s AND %s LIMIT %s", (low, high, rows))]
        if len(found) < rows:
            found = [r[0] for r in conn.execute(
                "SELECT state FROM instances WHERE process_id = 'percorso4' AND octet_length(state) BETWEEN %s AND %s "
                "LIMIT %s", (low, high, rows))]
    if not found:
        raise SystemExit(f"no Percorso 4 state of about {kb} kB in the data set")
    return [found[i % len(found)] for i in range(rows)]


def main() -> int:
    """Fill both tables, rewrite and read every row in turn, print medians and stored sizes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=os.environ.get("GOL_BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/gol_national"),
                        help="a data set to read real states from (read only)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="where the scratch tables go (a schema of their own, dropped at the end)")
    parser.add_argument("--kb", type=int, default=55, help="size of the states, kB of JSON")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5, help="rewrites and reads of every row")
    args = parser.parse_args()
    found = states(args.dataset, args.kb, args.rows)
    methods = ("pglz", "lz4")
    write: dict[str, list[float]] = {m: [] for m in methods}
    read: dict[str, list[float]] = {m: [] for m in methods}
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        print(f"conditions: PostgreSQL {server}, one connection, one statement per round trip, one transaction per round "
              f"(no commit timed); "
              f"{len(found)} real Percorso 4 states of {statistics.mean(len(s) for s in found) / 1024:.1f} kB of JSON "
              f"on average; {os.cpu_count()} CPUs, load average before "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        try:
            for method in methods:
                conn.execute(f"CREATE TABLE {SCHEMA}.{method} (id int PRIMARY KEY, row_version int NOT NULL, "
                             f"state text COMPRESSION {method} NOT NULL) WITH (fillfactor = 70)")
                with conn.cursor().copy(f"COPY {SCHEMA}.{method} (id, row_version, state) FROM STDIN") as copy:
                    for n, state in enumerate(found):
                        copy.write_row((n, 1, state))
                conn.execute(f"VACUUM ANALYZE {SCHEMA}.{method}")
            for round_ in range(args.rounds):
                # One transaction per round: the statements are timed without the commit's fsync,
                # which is the same for both methods and, on a busy disk, would drown the difference.
                with conn.transaction():
                    for n, state in enumerate(found):
                        changed = state + " " * (round_ % 2)  # a new value each round
                        for method in methods:
                            began = time.perf_counter()
                            conn.execute(f"UPDATE {SCHEMA}.{method} SET state = %s, row_version = row_version + 1 "
                                         f"WHERE id = %s", (changed, n))
                            write[method].append((time.perf_counter() - began) * 1000)
                            began = time.perf_counter()
                            conn.execute(f"SELECT state FROM {SCHEMA}.{method} WHERE id = %s", (n,)).fetchone()
                            read[method].append((time.perf_counter() - began) * 1000)
            stored = {m: conn.execute(f"SELECT avg(pg_column_size(state)) FROM {SCHEMA}.{m}").fetchone()[0]  # type: ignore[index]
                      for m in methods}
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    for method in methods:
        print(f"{method:>5}: rewrite p50 {statistics.median(write[method]):.2f} ms, read p50 "
              f"{statistics.median(read[method]):.2f} ms ({len(write[method])} each); stored "
              f"{float(stored[method]) / 1024:.1f} kB per state")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
