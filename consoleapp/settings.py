"""Perdura's settings. Every value comes from an environment variable with a safe default
for the embedded mode (SQLite, in-process workers, in-memory channel layer)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from consoleapp.env import (
    PrivateSQLiteConnection,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_proxy_ssl_header,
    env_retention,
    env_secret,
    env_str,
    make_private,
    make_private_directory,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PERDURA_VAR_DIR", str(BASE_DIR / "var")))
# var/ holds the secret key, the embedded database (sessions, password hashes) and the first
# admin's password: only the user Perdura runs as may read it. Older installs made it readable by
# everyone, so it is made private on every start, like each of Perdura's files in it below.
make_private_directory(VAR_DIR)
make_private(VAR_DIR / "secret_key")

SECRET_KEY = env_secret("PERDURA_SECRET_KEY", VAR_DIR / "secret_key")
# Earlier keys, still accepted for what they signed (sessions, the links' link keys) while a
# new key takes over; comma-separated.
SECRET_KEY_FALLBACKS = env_list("PERDURA_SECRET_KEY_FALLBACKS", [])
DEBUG = env_bool("PERDURA_DEBUG", False)
ALLOWED_HOSTS = env_list("PERDURA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("PERDURA_CSRF_TRUSTED_ORIGINS", [])

# HTTPS. The embedded default serves plain HTTP on 127.0.0.1; behind a proxy that terminates TLS,
# PERDURA_HTTPS=true sends cookies over HTTPS only, redirects HTTP to HTTPS and turns on HSTS.
PERDURA_HTTPS = env_bool("PERDURA_HTTPS", False)
# How the proxy tells Django that the client used HTTPS; without it every request would look
# like plain HTTP and be redirected again and again.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header(
    "PERDURA_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PERDURA_HTTPS else ""
)
SESSION_COOKIE_SECURE = PERDURA_HTTPS
CSRF_COOKIE_SECURE = PERDURA_HTTPS
SECURE_SSL_REDIRECT = PERDURA_HTTPS
# Health probes call /healthz over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("PERDURA_HSTS_SECONDS", 365 * 24 * 3600 if PERDURA_HTTPS else 0, minimum=0)
# Both bind every subdomain of the site to HTTPS as well, which only its owner can decide.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PERDURA_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("PERDURA_HSTS_PRELOAD", False)
# Behind a proxy every connection comes from the proxy. With this, `manage.py serve` takes the
# client's address from the X-Forwarded-For header instead (its first address), for the login
# limits and the logs; a client could send that header itself, so only a proxy that replaces it
# may be trusted so.
PERDURA_TRUST_X_FORWARDED_FOR = env_bool("PERDURA_TRUST_X_FORWARDED_FOR", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "django_htmx",
    "template_partials",
    "consoleapp",
    "functions",
    "orchestrations",
    "entities",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "consoleapp.middleware.RejectNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "consoleapp.urls"
ASGI_APPLICATION = "consoleapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: PostgreSQL in production (DATABASE_URL), a SQLite file in the embedded default.
_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'perdura.sqlite3'}")
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=env_int("PERDURA_DB_CONN_MAX_AGE", 60))
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Perdura can use: {error}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # Every transaction takes SQLite's write lock at BEGIN, so concurrent claims serialize
    # instead of failing on lock upgrades; WAL lets readers go on while a worker writes.
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        # A new database file (the test database included) is created readable by its owner only.
        "factory": PrivateSQLiteConnection,
    }
    # Tests run on a file too: worker threads need their own connections to the same database.
    # One file per test run, so that two runs side by side do not pull it from under each other.
    _database["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    _database_file = Path(_database["NAME"])
    if _database_file.resolve().parent == VAR_DIR.resolve():
        # Only the embedded database is Perdura's to tighten: a file named by DATABASE_URL
        # elsewhere keeps the permissions its owner gave it.
        for _suffix in ("", "-wal", "-shm", "-journal"):
            make_private(VAR_DIR / f"{_database_file.name}{_suffix}")
    else:
        _database_file.parent.mkdir(parents=True, exist_ok=True)
elif _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(f"DATABASE_URL must name PostgreSQL or SQLite; got {_database['ENGINE']!r}")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries Celery's wake-ups and the channel layer in production; without it Perdura runs
# its workers inside the web process.
REDIS_URL = env_str("REDIS_URL", "")
PERDURA_WORKERS = env_choice("PERDURA_WORKERS", ("inprocess", "celery"), "celery" if REDIS_URL else "inprocess")
if PERDURA_WORKERS == "celery" and not REDIS_URL:
    raise ImproperlyConfigured("PERDURA_WORKERS=celery needs REDIS_URL for the Celery broker")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django support closes the database connection before and after every task unless
# told to reuse it: a new PostgreSQL connection per wake-up cost 15-20 ms. Workers keep theirs
# (closed between tasks only when obsolete by PERDURA_DB_CONN_MAX_AGE, or broken; see
# orchestrations/tasks.py) and Celery closes it only after this many tasks.
CELERY_DB_REUSE_MAX = 1000

if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    # In-process workers publish from their own threads: see consoleapp/channel_layers.py.
    CHANNEL_LAYERS = {"default": {"BACKEND": "consoleapp.channel_layers.ThreadSafeInMemoryChannelLayer"}}

# The engine.
PERDURA_FUNCTION_APPS = env_list("PERDURA_FUNCTION_APPS", ["samples"])
PERDURA_LEASE_SECONDS = env_int("PERDURA_LEASE_SECONDS", 30, minimum=1)
PERDURA_BATCH_SIZE = env_int("PERDURA_BATCH_SIZE", 50, minimum=1)
PERDURA_POLL_SECONDS = env_float("PERDURA_POLL_SECONDS", 1.0, minimum=0.01)
PERDURA_MAX_PAYLOAD_BYTES = env_int("PERDURA_MAX_PAYLOAD_BYTES", 4 * 1024 * 1024, minimum=1024)
# Request bodies up to the payload limit must reach the API's own check (which answers 413
# in JSON), not stop at Django's smaller default.
DATA_UPLOAD_MAX_MEMORY_SIZE = PERDURA_MAX_PAYLOAD_BYTES + 64 * 1024
PERDURA_HTTP_POLL_SECONDS = env_float("PERDURA_HTTP_POLL_SECONDS", 5.0, minimum=0)
PERDURA_HTTP_TIMEOUT_SECONDS = env_float("PERDURA_HTTP_TIMEOUT_SECONDS", 30.0, minimum=0.1)
# call_http reaches public addresses only, and these hosts besides (see functions/outbound_http.py).
# The embedded default allows the server itself on its own port, so that the samples that call
# it (async_http_api) work out of the box; production allows nothing private unless told to.
_own_port = env_str("PORT", "8000")
PERDURA_HTTP_ALLOWED_HOSTS = env_list(
    "PERDURA_HTTP_ALLOWED_HOSTS",
    [f"127.0.0.1:{_own_port}", f"localhost:{_own_port}", f"[::1]:{_own_port}"]
    if PERDURA_WORKERS == "inprocess"
    else [],
)
# How many orchestration episodes and activities one worker process runs at once: Azure's host.json
# maxConcurrentOrchestratorFunctions / maxConcurrentActivityFunctions. They are the defaults of
# `manage.py worker --orchestration-concurrency / --activity-concurrency` and, when set, of the
# embedded mode's threads. Unset, the embedded mode keeps one orchestration thread: SQLite lets one
# writer in at a time, and a second thread would mostly wait for it.
PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS = env_int("PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS", 2, minimum=1)
PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS = env_int("PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS", 4, minimum=1)
PERDURA_INPROCESS_ORCHESTRATION_THREADS = env_int(
    "PERDURA_INPROCESS_ORCHESTRATION_THREADS",
    PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS
    if "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS" in os.environ
    else 1,
    minimum=1,
)
PERDURA_INPROCESS_ACTIVITY_THREADS = env_int(
    "PERDURA_INPROCESS_ACTIVITY_THREADS", PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS, minimum=1
)
PERDURA_INPROCESS_ENTITY_THREADS = env_int("PERDURA_INPROCESS_ENTITY_THREADS", 1, minimum=1)
PERDURA_INPROCESS_TRIGGER_THREADS = env_int("PERDURA_INPROCESS_TRIGGER_THREADS", 2, minimum=1)
# Functions run by events (HTTP, timer and queue triggers).
PERDURA_HTTP_ROUTE_PREFIX = env_str("PERDURA_HTTP_ROUTE_PREFIX", "api").strip("/")
PERDURA_MAX_REQUEST_BYTES = env_int("PERDURA_MAX_REQUEST_BYTES", 4 * 1024 * 1024, minimum=1024)
# HTTP functions are served straight from ASGI (functions/http/asgi.py), through these of the
# middleware above only: the security headers and checks, not sessions, CSRF or the console's
# login, since their callers authenticate with keys. Same order as in MIDDLEWARE (a test holds it).
PERDURA_HTTP_FUNCTION_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "consoleapp.middleware.RejectNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Threads of a web process that run HTTP functions, so that a slow one does not hold up the others.
PERDURA_HTTP_FUNCTION_THREADS = env_int("PERDURA_HTTP_FUNCTION_THREADS", 8, minimum=1)
PERDURA_TIMER_TIME_ZONE = env_str("PERDURA_TIMER_TIME_ZONE", "UTC")
# The task hub's name, as Azure function apps' durable client bindings report it (host.json's
# extensions.durableTask.hubName sets it for an Azure app); one database holds one hub.
PERDURA_TASK_HUB = env_str("PERDURA_TASK_HUB", "perdura")
PERDURA_QUEUE_VISIBILITY_SECONDS = env_float("PERDURA_QUEUE_VISIBILITY_SECONDS", 30.0, minimum=0.1)
PERDURA_QUEUE_MAX_DEQUEUE_COUNT = env_int("PERDURA_QUEUE_MAX_DEQUEUE_COUNT", 5, minimum=1)
PERDURA_QUEUE_MESSAGE_TTL_SECONDS = env_int("PERDURA_QUEUE_MESSAGE_TTL_SECONDS", 7 * 24 * 3600, minimum=1)
# Finished instances go, with everything stored for them, this long after they finished, by
# status (orchestrations/store/retention.py). Off in the embedded mode unless set.
PERDURA_RETENTION = env_retention(
    "PERDURA_RETENTION",
    "off" if PERDURA_WORKERS == "inprocess" else "Completed=30d,Failed=90d,Terminated=30d,Canceled=30d",
    ("Completed", "Failed", "Terminated", "Canceled"),
)
# The audit log's entries go after this many days (0: kept for ever).
PERDURA_AUDIT_RETENTION_DAYS = env_float("PERDURA_AUDIT_RETENTION_DAYS", 365.0, minimum=0)
PERDURA_INVOCATION_RETENTION_DAYS = env_float("PERDURA_INVOCATION_RETENTION_DAYS", 7.0, minimum=0.001)
PERDURA_ENTITY_BATCH_SIZE = env_int("PERDURA_ENTITY_BATCH_SIZE", 100, minimum=1)
PERDURA_READ_ONLY = env_bool("PERDURA_READ_ONLY", False)
# Counting for /metrics (orchestrations/store/metrics.py); off, the counters stand still and
# /metrics serves only what it reads from the tables.
PERDURA_METRICS = env_bool("PERDURA_METRICS", True)
# Addresses that may read /metrics without a key (Prometheus on the same network, say). Empty
# by default: behind a reverse proxy every request comes from the proxy's address.
PERDURA_METRICS_ALLOW_FROM = env_networks("PERDURA_METRICS_ALLOW_FROM")
if PERDURA_METRICS_ALLOW_FROM and PERDURA_TRUST_X_FORWARDED_FOR:
    # The address would then be what the client's X-Forwarded-For says: anyone could claim one.
    raise ImproperlyConfigured(
        "PERDURA_METRICS_ALLOW_FROM cannot be used with PERDURA_TRUST_X_FORWARDED_FOR, which takes the "
        "client's address from a header a client can write; give Prometheus an API key instead"
    )
# Live console pages (websockets) one user may keep open in one web process.
PERDURA_MAX_LIVE_PAGES_PER_USER = env_int("PERDURA_MAX_LIVE_PAGES_PER_USER", 30, minimum=1)
PERDURA_WORKER_HEARTBEAT_SECONDS = env_float("PERDURA_WORKER_HEARTBEAT_SECONDS", 5.0, minimum=0.1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are limited per account and per address (django-axes): after the limit, the
# account, or anyone from that address, is refused until the cool-off has passed since the last
# failure. The address is the connection's (REMOTE_ADDR), which a client cannot choose, unless
# PERDURA_TRUST_X_FORWARDED_FOR above says that a proxy tells it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("PERDURA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PERDURA_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# The login page, with the lockout message and status 429.
AXES_LOCKOUT_TEMPLATE = "registration/login.html"
# Keep only the failures, which the limit needs; a row for every successful login would grow
# without end.
AXES_DISABLE_ACCESS_LOG = True
# No banner at the start of every process: it went to the stderr of every management command.
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# Serve static files straight from the apps, so the embedded mode needs no collectstatic.
WHITENOISE_USE_FINDERS = True
# Perdura stores no uploads. A prefix of its own keeps Django's test server, which serves
# MEDIA_URL from MEDIA_ROOT, from taking every path (MEDIA_URL is empty by default) for a file.
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PERDURA_LOG_LEVEL", "INFO").upper()},
    # Celery's own lines (one per wake-up at INFO) at the level `manage.py worker --loglevel` asks.
    "loggers": {"celery": {"level": env_str("PERDURA_CELERY_LOG_LEVEL", "WARNING").upper()}},
}
