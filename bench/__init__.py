"""The benchmark workloads of DESIGN.md (W1-W5) and their runner: ``python -m bench``."""

from __future__ import annotations
