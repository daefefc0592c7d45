"""Fan-out/fan-in: run one activity per work item in parallel, then aggregate their results.

``word_count_report`` takes a batch of documents, counts the words of each in its own
activity (all scheduled in one episode, so activity workers run them side by side), waits
for every count with ``task_all`` and sums them up.
"""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("word_count")


@app.activity
def count_words(document: dict) -> dict:
    """Count one document's words. A real app would fetch the document from storage here."""
    return {"title": document["title"], "words": len(document["text"].split())}


@app.orchestrator
def word_count_report(ctx):
    documents = ctx.get_input() or []
    # Fan out: every call is scheduled before any is waited for.
    counts = [ctx.call_activity("count_words", document) for document in documents]
    # Fan in: task_all completes when all of them have, with their results in call order.
    results = yield ctx.task_all(counts)
    return {
        "documents": len(results),
        "total_words": sum(result["words"] for result in results),
        "words_per_document": {result["title"]: result["words"] for result in results},
    }
