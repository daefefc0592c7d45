"""Dynamic orchestration: which sub-orchestrations run is decided at run time, from the input.

``edit_document`` runs a document through the editing steps its input lists, in that order,
each step a sub-orchestration of its own (each visible as a child instance in the console).
The same orchestrator serves a quick clean-up (``["tidy"]``) and a full publication pass
(``["tidy", "redact", "headline"]``): no code path is fixed in advance, yet each instance's
choices are recorded in its history and replay exactly.
"""

from __future__ import annotations

import re

from functions import FunctionApp

app = FunctionApp("document_editing")

#: The steps a caller may ask for, and the orchestrator that performs each.
STEP_ORCHESTRATORS = {
    "tidy": "tidy_document_step",
    "redact": "redact_document_step",
    "headline": "headline_document_step",
}

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@app.activity
def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


@app.activity
def redact_emails(text: str) -> str:
    return EMAIL.sub("[redacted]", text)


@app.activity
def add_headline(text: str) -> str:
    first_sentence = text.split(".")[0].strip()
    return f"{first_sentence.upper()}\n\n{text}"


@app.orchestrator
def tidy_document_step(ctx):
    return (yield ctx.call_activity("collapse_whitespace", ctx.get_input()))


@app.orchestrator
def redact_document_step(ctx):
    return (yield ctx.call_activity("redact_emails", ctx.get_input()))


@app.orchestrator
def headline_document_step(ctx):
    return (yield ctx.call_activity("add_headline", ctx.get_input()))


@app.orchestrator
def edit_document(ctx):
    """Input: ``{"text": "...", "steps": ["tidy", "redact"]}``."""
    job = ctx.get_input()
    # Refuse an unknown step before doing any work, naming the ones there are.
    unknown = [step for step in job["steps"] if step not in STEP_ORCHESTRATORS]
    if unknown:
        raise ValueError(f"unknown editing steps {unknown}; the steps are {sorted(STEP_ORCHESTRATORS)}")
    text = job["text"]
    for step in job["steps"]:
        text = yield ctx.call_sub_orchestrator(STEP_ORCHESTRATORS[step], text)
    return {"steps": job["steps"], "text": text}
