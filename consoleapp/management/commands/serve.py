"""``manage.py serve``: the console on Daphne, with the in-process workers in the embedded mode."""

from __future__ import annotations

import gc
import os
import secrets

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from consoleapp.env import replace_private_file
from functions.services import sync_registry
from orchestrations.worker.inprocess import InProcessWorkers

#: Where the first start leaves the first admin's password, in var/.
INITIAL_ADMIN_PASSWORD_FILE = "initial_admin_password"


class Command(BaseCommand):
    help = "Serve Perdura on Daphne (HOST/PORT); in the embedded mode also run the workers in-process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--no-workers", action="store_true", help="do not run in-process workers")

    def handle(self, *args, **options) -> None:
        port = options["port"] or _port_from_env()
        sync_registry()
        self.ensure_admin(options["host"], port)
        workers = None
        if settings.PERDURA_WORKERS == "inprocess" and not options["no_workers"]:
            workers = InProcessWorkers()
            workers.start()
        # Lazy: importing the ASGI module builds the whole application (routes, consumers), which
        # only serving needs, and only once the workers above have started.
        from consoleapp.asgi import application

        # What is loaded by now (Django, the apps, the function apps) lives as long as the
        # process: kept out of the collector's full passes, which otherwise stall every request
        # in flight for tens of milliseconds (H1's p99 fell from about 100 ms to 33).
        gc.collect()
        gc.freeze()
        self.stdout.write(f"Perdura is serving http://{options['host']}:{port}/ ({settings.PERDURA_WORKERS} workers)")
        try:
            Server(
                application,
                endpoints=build_endpoint_description_strings(host=options["host"], port=port),
                proxy_forwarded_address_header="X-Forwarded-For" if settings.PERDURA_TRUST_X_FORWARDED_FOR else None,
            ).run()
        finally:
            if workers is not None:
                workers.stop()

    def ensure_admin(self, host: str, port: int) -> None:
        """Make the first admin, if there is none yet. Its password goes into a file in var/ that
        only the user Perdura runs as can read, never to the output, which often ends up in log
        files that others read."""
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "", password)
        # A file left by an earlier first start belongs to an admin of a database since replaced.
        password_file = settings.VAR_DIR / INITIAL_ADMIN_PASSWORD_FILE
        replace_private_file(password_file, f"{password}\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"\nFirst start: log in at http://{host}:{port}/ as admin with the password in {password_file}\n"
                "(readable only by this user). Change it with `python manage.py changepassword admin`,\n"
                "then delete that file.\n"
            )
        )


def _port_from_env() -> int:
    raw = os.environ.get("PORT", "8000")
    try:
        port = int(raw)
    except ValueError:
        raise CommandError(f"PORT must be a port number; got {raw!r}") from None
    if not 0 < port < 65536:
        raise CommandError(f"PORT must be between 1 and 65535; got {port}")
    return port
