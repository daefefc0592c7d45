"""End-to-end tests of the sample function apps."""

from __future__ import annotations

#: How long an end-to-end test waits for an instance to finish. Embedded runs take 1-3 s; the
#: bound is generous because CI's Celery mode starts real worker processes for each test,
#: which takes several seconds on a loaded 2-core machine.
COMPLETION_TIMEOUT = 30
