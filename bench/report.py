"""Recording a run: one JSON file per day and commit under results/, one table row per figure
in RESULTS.md, and the same table on the terminal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Figure

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"

COLUMNS = [
    "Date",
    "Commit",
    "Mode",
    "Workload",
    "Figure",
    "Target",
    "DBOS",
    "Perdura / DBOS",
    "Machine",
    "Database",
    "Workers",
    "Broker",
]
RESULTS_MD_HEADER = f"""# Benchmark results

One row per figure of every `python -m bench` run (`make bench`), newest last; the full record
of each run, with the details of every figure, is in `results/<date>-<commit>.json`.

- Workloads are those of `DESIGN.md`; *quick* runs use smaller sizes and say so.
- *Target* is the figure the engine aims for (met or missed at this size).
- *DBOS* is the same workload on DBOS Transact against the same database server in the same
  run; *Perdura / DBOS* divides the two as they are, so above 1 is better for a rate
  (higher is better) and worse for a time (lower is better).
- A commit marked `+` had changes not yet committed when it was measured.
- *Machine* ends with the 1-minute load average at the start and the end of the run: other
  work on the machine (a test suite, another run) lowers every figure, so compare runs made
  at a low load.

| {" | ".join(COLUMNS)} |
|{"---|" * len(COLUMNS)}
"""


@dataclass
class RunRecord:
    """Everything one run measured, and what it ran on."""

    started_at: str
    commit: str
    dirty: bool
    mode: str
    quick: bool
    command: str
    machine: dict[str, Any]
    database: dict[str, Any]
    workers: dict[str, Any]
    broker: str
    peer: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    finished_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "commit": self.commit,
            "dirty": self.dirty,
            "mode": self.mode,
            "quick": self.quick,
            "command": self.command,
            "machine": self.machine,
            "database": self.database,
            "workers": self.workers,
            "broker": self.broker,
            "peer": self.peer,
            "figures": [figure.as_dict() for figure in self.figures],
        }


def rows(record: RunRecord) -> list[dict[str, str]]:
    """One row per figure, keyed by COLUMNS, as RESULTS.md and the terminal show them."""
    return [_row(record, figure) for figure in record.figures]


def _row(record: RunRecord, figure: Figure) -> dict[str, str]:
    commit = record.commit + ("+" if record.dirty else "")
    size = f"{figure.title}{' (quick)' if record.quick else ''}"
    return {
        "Date": record.started_at[:10],
        "Commit": commit,
        "Mode": record.mode,
        "Workload": f"{figure.workload} {size}",
        "Figure": _figure_text(figure),
        "Target": _target_text(figure),
        "DBOS": _number(figure.peer_value) if figure.peer_value is not None else _peer_missing(figure),
        "Perdura / DBOS": f"{figure.ratio:.2f}" if figure.ratio is not None else "-",
        "Machine": _machine_text(record.machine),
        "Database": _database_text(record.database),
        "Workers": _workers_text(record.workers),
        "Broker": record.broker,
    }


def _figure_text(figure: Figure) -> str:
    if figure.value is None:
        return f"not measured: {figure.details.get('error', 'no result')}"
    return f"{_number(figure.value)} {figure.metric}"


def _target_text(figure: Figure) -> str:
    if figure.target is None:
        return "-"
    sign = ">=" if figure.better == "higher" else "<="
    verdict = {True: "met", False: "missed", None: "not measured"}[figure.meets_target]
    return f"{sign} {_number(figure.target)} ({verdict})"


def _peer_missing(figure: Figure) -> str:
    return "error" if figure.peer_details.get("error") else "-"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _machine_text(machine: dict[str, Any]) -> str:
    loads = [machine.get("load_average_at_start"), machine.get("load_average_at_end")]
    load = " -> ".join(f"{value:.1f}" for value in loads if value is not None)
    return f"{machine.get('cpus')} cores, {machine.get('memory_gib')} GiB, load {load}"


def _database_text(database: dict[str, Any]) -> str:
    version = database.get("version", "")
    if database.get("vendor") == "postgresql":
        version = " ".join(version.split()[:2])
    settings = ", ".join(f"{name}={value}" for name, value in database.get("settings", {}).items())
    return f"{version} ({settings})" if settings else version


def _workers_text(workers: dict[str, Any]) -> str:
    concurrency = "/".join(str(count) for count in workers.get("concurrency", {}).values())
    if workers.get("kind") == "inprocess":
        return f"in-process threads {concurrency} (orch/act/ent)"
    return f"{workers.get('processes')} x manage.py worker, {workers.get('pool')} {concurrency} (orch/act/ent)"


def write_json(record: RunRecord) -> Path:
    """Add the run to results/<date>-<commit>.json (a file holds every run of that day and commit)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{record.started_at[:10]}-{record.commit}.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs.append(record.as_dict())
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    return path


def append_markdown(record: RunRecord) -> None:
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else RESULTS_MD_HEADER
    lines = ["| " + " | ".join(_cell(row[column]) for column in COLUMNS) + " |" for row in rows(record)]
    # New rows go at the end of the table, above the notes that follow it (## sections).
    table, heading, notes = text.partition("\n## ")
    table = table.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    RESULTS_MD.write_text(table + (f"\n## {notes}" if heading else ""))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def terminal_table(record: RunRecord) -> str:
    shown = ["Workload", "Figure", "Target", "DBOS", "Perdura / DBOS"]
    table = [shown, *([row[column] for column in shown] for row in rows(record))]
    widths = [max(len(line[index]) for line in table) for index in range(len(shown))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in table)
