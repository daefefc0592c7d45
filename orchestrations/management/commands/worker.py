"""``manage.py worker``: the production worker process.

It runs one Celery worker per engine queue as child processes (so each queue has its own
concurrency), and a sweeper that wakes them for due timers, expired leases and lost
wake-ups. Children die with their parent, so killing this process stops all of its work.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from functions.services import sync_registry
from functions.worker.timers import start_timers
from orchestrations.store.wakeups import ACTIVITIES, ENTITIES, ORCHESTRATIONS, TRIGGERS, celery_queue_name
from orchestrations.worker.autoscale import QUEUE_VARIABLE
from orchestrations.worker.sweeper import Sweeper

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Off Linux there is no prctl: children then outlive a killed parent until they notice.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Command(BaseCommand):
    help = "Run Perdura's Celery workers (one pool per queue) and the sweeper."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--orchestration-concurrency",
            type=int,
            default=settings.PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS,
            metavar="N",
            help="orchestration episodes run at once (default %(default)s: PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS)",
        )
        parser.add_argument(
            "--activity-concurrency",
            type=int,
            default=settings.PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS,
            metavar="N",
            help="activities run at once (default %(default)s: PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS)",
        )
        parser.add_argument(
            "--activity-autoscale",
            type=int,
            metavar="MAX",
            help="grow the activity pool up to MAX processes while activities wait in the database, and back "
            "to --activity-concurrency when they do not (orchestrations/worker/autoscale.py)",
        )
        parser.add_argument("--entity-concurrency", type=int, default=1, metavar="N")
        parser.add_argument("--trigger-concurrency", type=int, default=2, metavar="N")
        parser.add_argument("--pool", choices=["prefork", "threads", "solo"], default="prefork")
        parser.add_argument("--loglevel", default="WARNING", help="Celery log level (INFO logs every wake-up)")

    def handle(self, *args, **options) -> None:
        if settings.PERDURA_WORKERS != "celery":
            raise CommandError(
                "manage.py worker runs Celery workers and needs REDIS_URL; in the embedded mode "
                "`manage.py serve` (make run) runs the workers in-process"
            )
        concurrency = {
            ORCHESTRATIONS: options["orchestration_concurrency"],
            ACTIVITIES: options["activity_concurrency"],
            ENTITIES: options["entity_concurrency"],
            TRIGGERS: options["trigger_concurrency"],
        }
        if min(concurrency.values()) < 1:
            raise CommandError("concurrency must be at least 1")
        autoscale = options.get("activity_autoscale")
        if autoscale is not None and options["pool"] != "prefork":
            raise CommandError("--activity-autoscale grows a prefork pool: use it with --pool prefork")
        if autoscale is not None and autoscale < concurrency[ACTIVITIES]:
            raise CommandError(
                f"--activity-autoscale ({autoscale}) must be at least --activity-concurrency ({concurrency[ACTIVITIES]})"
            )
        sync_registry()
        start_timers()
        children = [self._spawn(queue, count, options) for queue, count in concurrency.items()]
        # The heartbeat tells the most each pool may run.
        slots = {**concurrency, ACTIVITIES: autoscale or concurrency[ACTIVITIES]}
        sweeper = Sweeper(settings.PERDURA_POLL_SECONDS, settings.PERDURA_WORKER_HEARTBEAT_SECONDS, "celery", slots)
        sweeper.start()
        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        exit_code = 0
        try:
            while not stopping:
                exited = [child for child in children if child.poll() is not None]
                if exited:
                    self.stderr.write(f"a worker process exited with status {exited[0].returncode}; stopping")
                    exit_code = 1
                    break
                time.sleep(0.5)
        finally:
            sweeper.stop()
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
        if exit_code:
            sys.exit(exit_code)

    def _spawn(self, queue: str, concurrency: int, options) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consoleapp",
            "worker",
            "-Q",
            celery_queue_name(queue),
            "-c",
            str(concurrency),
            "-P",
            options["pool"],
            "-n",
            f"{queue}.{os.getpid()}@%h",
            "-l",
            options["loglevel"],
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        env = {**os.environ, "PERDURA_CELERY_LOG_LEVEL": options["loglevel"]}
        autoscale = options.get("activity_autoscale")
        if queue == ACTIVITIES and autoscale:
            command += [f"--autoscale={autoscale},{concurrency}"]
            env[QUEUE_VARIABLE] = queue
            self.stdout.write(f"starting the {queue} worker: {concurrency} to {autoscale} x {options['pool']}")
        else:
            self.stdout.write(f"starting the {queue} worker: {concurrency} x {options['pool']}")
        return subprocess.Popen(command, preexec_fn=_die_with_parent, env=env)
