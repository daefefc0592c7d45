"""The settings of H1's web server, and of nothing else: Perdura's own settings, read from the
same environment, with bench/urls.py as the URLconf. That URLconf adds the plain Django view
H1 compares the HTTP function with, so the view exists only in a server the bench starts."""

from __future__ import annotations

from consoleapp.settings import *  # noqa: F403  (every setting as deployed; only the URLconf differs)

ROOT_URLCONF = "bench.urls"
