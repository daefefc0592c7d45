"""The workers: they claim ready work from the database in batches, run it and checkpoint it
(loop.py drains; episodes.py runs orchestrations, activities.py activities; entities/worker.py
entity batches), in Celery worker processes or in-process threads alike."""
