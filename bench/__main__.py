"""``python -m bench [W1 ...] [--mode postgres|embedded] [--workers N] [--quick]``: run the
benchmark workloads and record what they measured.

Postgres mode makes a fresh database on the local PostgreSQL server, starts ``--workers``
``manage.py worker`` processes against it (Celery over the local Redis), runs W1-W4 from
this process, stops the workers, runs O1 (W1 and W2 on fresh workers with metrics and traces
off, then on), runs T1 on --workers processes of its own (killing one midway), runs W1-W3 on DBOS Transact against a database of its own on
the same server, then runs H1 (a web server of its own against the bench database, no
workers needed) and loads and measures W5. Embedded mode does the same on a SQLite file in
a temporary directory, with the in-process worker threads (and DBOS on SQLite). Everything
it made is removed at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import environment, report
from bench.sizes import ENGINE_WORKLOADS, FULL, QUICK, WORKLOADS, Sizes

BENCH_DATABASE = "perdura_bench"
PEER_DATABASE = "perdura_bench_dbos"
DEFAULT_POSTGRES = "postgres://root@127.0.0.1:5432"
#: A Redis database of the bench's own: the engine's Celery queues have fixed names, and a
#: test run's workers on the default database would otherwise take the bench's wake-ups.
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmark workloads (W1-W5, Q1, T1 and H1 of DESIGN.md) and record what they measured.",
    )
    parser.add_argument("workloads", nargs="*", type=str.upper, metavar="W", help="W1 .. W5, Q1, T1, H1 (default: all)")
    parser.add_argument("--mode", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes in postgres mode (default 2); embedded mode runs the in-process threads",
    )
    parser.add_argument("--pool", choices=["prefork", "threads", "solo"], default="prefork", help="their Celery pool")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: the whole run takes under two minutes")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="per workload (default 600, quick 60)")
    parser.add_argument("--no-peer", action="store_true", help="skip the DBOS Transact runs")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases and files afterwards")
    parser.add_argument("--no-record", action="store_true", help="print the figures but write no results")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        metavar="URL",
        help=f"the PostgreSQL server, where the bench makes and drops its databases (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        metavar="URL",
        help=f"a Redis database of the bench's own: its Perdura keys are deleted before and after (default {DEFAULT_REDIS})",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    unknown = [workload for workload in args.workloads if workload not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    args.workloads = sorted(set(args.workloads), key=WORKLOADS.index) if args.workloads else list(WORKLOADS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.timeout:
        sizes = dataclasses.replace(sizes, timeout=args.timeout)
    embedded = args.mode == "embedded"
    scratch = Path(tempfile.mkdtemp(prefix="perdura-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "consoleapp.settings"
    os.environ.setdefault("PERDURA_LOG_LEVEL", "WARNING")
    os.environ["PERDURA_FUNCTION_APPS"] = environment.FUNCTION_APPS
    try:
        if embedded:
            os.environ.pop("REDIS_URL", None)
            os.environ.update(DATABASE_URL=f"sqlite:///{scratch / 'bench.sqlite3'}", PERDURA_WORKERS="inprocess")
            peer_url = f"sqlite:///{scratch / 'dbos.sqlite3'}"
        else:
            environment.recreate_database(args.postgres, BENCH_DATABASE)
            environment.clear_redis(args.redis)
            os.environ.update(
                DATABASE_URL=environment.database_url(args.postgres, BENCH_DATABASE),
                REDIS_URL=args.redis,
                PERDURA_WORKERS="celery",
            )
            peer_url = environment.database_url(args.postgres, PEER_DATABASE)
        record = run(args, sizes, scratch, peer_url)
    finally:
        cleanup(args, scratch)
    if not args.no_record:
        path = report.write_json(record)
        report.append_markdown(record)
        print(
            f"\nrecorded in {path.relative_to(environment.REPO)} and {report.RESULTS_MD.relative_to(environment.REPO)}"
        )
    print()
    print(report.terminal_table(record))
    return 0


def run(args: argparse.Namespace, sizes: Sizes, scratch: Path, peer_url: str) -> report.RunRecord:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench import runner

    embedded = args.mode == "embedded"
    call_command("migrate", verbosity=0)
    commit, dirty = environment.git_commit()
    record = report.RunRecord(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        commit=commit,
        dirty=dirty,
        mode=args.mode,
        quick=args.quick,
        command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        machine=environment.machine(),
        database=environment.database_facts(),
        workers=_workers_record(args, settings),
        broker="none (in-process wake-ups)" if embedded else f"redis db {args.redis.rsplit('/', 1)[-1] or 0}",
    )
    print(f"Perdura {commit}{'+' if dirty else ''}, {args.mode} mode, {'quick' if args.quick else 'full'} sizes")
    load, cpus = record.machine["load_average_at_start"], record.machine["cpus"] or 1
    if load is not None and load > cpus / 2:
        print(f"warning: the machine is busy (load {load:.1f} on {cpus} cores); every figure will be lower for it")
    engine_workloads = [workload for workload in args.workloads if workload in ENGINE_WORKLOADS]
    if engine_workloads:
        record.figures += _with_workers(
            args,
            scratch,
            lambda: runner.run_engine_workloads(
                engine_workloads,
                sizes,
                embedded=embedded,
                worker_processes=None if embedded else args.workers,
                pool=args.pool,
            ),
        )
    if not args.no_peer and any(workload in ("W1", "W2", "W3") for workload in engine_workloads):
        record.peer = {
            "name": "DBOS Transact",
            "version": runner.dbos_peer.dbos_version(),
            "database": _redacted(peer_url),
        }
        if not embedded:
            environment.recreate_database(args.postgres, PEER_DATABASE)
        record.figures = runner.add_peer_figures(record.figures, sizes, database_url=peer_url)
    if "O1" in args.workloads:
        from bench import o1_observability

        print("O1 ... (W1 and W2 with metrics and traces off, then on, on fresh workers each)")
        record.figures += o1_observability.run(
            sizes, with_workers=lambda extra_env, measure: _with_workers(args, scratch, measure, extra_env)
        )
    if "T1" in args.workloads:
        record.figures += runner.run_timers(
            sizes, embedded=embedded, workers=args.workers, pool=args.pool, scratch=scratch
        )
    if "H1" in args.workloads:
        record.figures += runner.run_http_hello(sizes)
    if "W5" in args.workloads:
        record.figures += runner.run_console_scale(sizes)
    record.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    record.machine["load_average_at_end"] = environment.load_average()
    from django.db import connections

    connections.close_all()
    return record


def _with_workers(args: argparse.Namespace, scratch: Path, measure, extra_env: dict[str, str] | None = None):
    """``measure()`` on fresh workers; started with ``extra_env`` added to this process's (in
    the embedded mode ``measure`` sets up this process itself)."""
    if args.mode == "embedded":
        from orchestrations.worker.inprocess import InProcessWorkers

        workers = InProcessWorkers()
        workers.start()
        try:
            return measure()
        finally:
            workers.stop()
    workers = environment.WorkerProcesses(args.workers, args.pool, {**os.environ, **(extra_env or {})}, scratch).start()
    try:
        ready = workers.wait_ready()
        print(f"{args.workers} worker processes ready after {ready:.1f} s")
        figures = measure()
        workers.check_alive()
        return figures
    finally:
        workers.stop()


def _workers_record(args: argparse.Namespace, settings) -> dict:
    common = {"batch_size": settings.PERDURA_BATCH_SIZE, "entity_batch_size": settings.PERDURA_ENTITY_BATCH_SIZE}
    if args.mode == "embedded":
        concurrency = {
            "orchestrations": settings.PERDURA_INPROCESS_ORCHESTRATION_THREADS,
            "activities": settings.PERDURA_INPROCESS_ACTIVITY_THREADS,
            "entities": settings.PERDURA_INPROCESS_ENTITY_THREADS,
        }
        return {"kind": "inprocess", "concurrency": concurrency, **common}
    return {
        "kind": "celery",
        "processes": args.workers,
        "pool": args.pool,
        "concurrency": environment.CONCURRENCY,
        "db_conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
        **common,
    }


def _redacted(url: str) -> str:
    return url.split("@", 1)[-1] if "@" in url else url


def cleanup(args: argparse.Namespace, scratch: Path) -> None:
    if args.keep:
        print(
            f"kept: {scratch}"
            + ("" if args.mode == "embedded" else f", databases {BENCH_DATABASE} and {PEER_DATABASE}")
        )
        return
    if args.mode == "postgres":
        environment.drop_database(args.postgres, BENCH_DATABASE)
        environment.drop_database(args.postgres, PEER_DATABASE)
        environment.clear_redis(args.redis)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
