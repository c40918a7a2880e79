"""PgBouncer in transaction pooling mode in front of a PostgreSQL database, started and stopped here.

Debian's `pgbouncer` package (`apt-get install pgbouncer`) on a free loopback port, with a
configuration of its own in a temporary folder (the system service is not used). Every client
connection is served by one of at most `pool_size` server connections per database and user,
handed over at each transaction's end. The application, told so with
`GOL_DATABASE_POOLER=transaction`, prepares no statement on the server (a prepared statement
belongs to one server session) and refuses the embedded scheduler (its lock is a session lock).

Run a command through it, with the database URLs in its environment pointing through PgBouncer:

    .venv/bin/python benchmarks/pgbouncer.py --postgres URL [--pool-size 8] -- COMMAND ...

The command gets GOL_DATABASE_URL, GOL_TEST_DATABASE_URL (and GOL_DATABASE_POOLER,
GOL_TEST_DATABASE_POOLER = transaction); afterwards the most server connections seen on the
database at once is printed, with the command's exit status passed on.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

BINARY = "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def config(upstream: str, port: int, folder: Path, pool_size: int, max_clients: int) -> str:
    """The pgbouncer.ini text: transaction pooling, every database of the upstream server."""
    info = conninfo_to_dict(_plain(upstream))
    host, server_port = info.get("host", "127.0.0.1"), info.get("port", "5432")
    return "\n".join([
        "[databases]",
        f"* = host={host} port={server_port}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {folder / 'userlist.txt'}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        "reserve_pool_size = 0",
        f"max_client_conn = {max_clients}",
        # psycopg sends these at start-up; PgBouncer would otherwise refuse the connection.
        "ignore_startup_parameters = extra_float_digits,options",
        "server_reset_query =",
        f"logfile = {folder / 'pgbouncer.log'}",
        f"pidfile = {folder / 'pgbouncer.pid'}",
        "",
    ])


def through(upstream: str, port: int) -> str:
    """The upstream URL with PgBouncer's host and port instead of the server's."""
    info = conninfo_to_dict(_plain(upstream))
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    return f"postgresql://{user}{password}@127.0.0.1:{port}/{info.get('dbname', user)}"


@contextmanager
def pgbouncer(upstream: str, pool_size: int = 8, max_clients: int = 1000) -> Iterator[str]:
    """PgBouncer (transaction mode) in front of `upstream` until the block ends; yields the URL through it."""
    if not Path(BINARY).is_file():
        raise RuntimeError(f"{BINARY} is missing: apt-get install pgbouncer")
    folder = Path(tempfile.mkdtemp(prefix="gol-pgbouncer-"))
    port = _free_port()
    user = conninfo_to_dict(_plain(upstream)).get("user", "postgres")
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(config(upstream, port, folder, pool_size, max_clients))
    command = [BINARY, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: it switches to the database's system user
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        for item in folder.iterdir():
            os.chown(item, owner.pw_uid, owner.pw_gid)
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = through(upstream, port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(url, prepare_threshold=None, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (folder / "pgbouncer.log")
                    raise RuntimeError("PgBouncer did not start: " + (log.read_text()[-2000:] if log.is_file() else ""))
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


class ServerConnections:
    """Samples, in a thread, how many server connections the database has (pg_stat_activity), keeping the most."""

    def __init__(self, upstream: str, every: float = 0.2, application: str | None = None) -> None:
        self.upstream = _plain(upstream)
        self.every = every
        self.application = application  # only connections of this application_name (PGAPPNAME), if given
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ServerConnections:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.upstream, autocommit=True) as conn:
            while not self._stop.is_set():
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid() AND (%s::text IS NULL OR application_name = %s)",
                                     (self.application, self.application)).fetchone()
                self.most = max(self.most, int(count[0]) if count else 0)
                self._stop.wait(self.every)


def main() -> int:
    """Start PgBouncer, run the command with the URLs through it, report the server connections it used."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("GOL_TEST_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--pool-size", type=int, default=8, help="server connections per database and user")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required")
    with pgbouncer(args.postgres, args.pool_size) as url:
        env = {**os.environ, "GOL_DATABASE_URL": url, "GOL_TEST_DATABASE_URL": url,
               "GOL_DATABASE_POOLER": "transaction", "GOL_TEST_DATABASE_POOLER": "transaction",
               "GOL_EMBEDDED_SCHEDULER": "0"}
        print(f"PgBouncer (transaction pooling, pool_size {args.pool_size}) at {url.rsplit('@', 1)[1]}", flush=True)
        with ServerConnections(args.postgres) as seen:
            status = subprocess.call(command, env=env)
    print(f"most server connections on the database at once: {seen.most} (pool_size {args.pool_size}, plus "
          f"this script's sampling connection, not counted)")
    return status


if __name__ == "__main__":
    sys.exit(main())
