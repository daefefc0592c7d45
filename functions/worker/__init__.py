"""The runtimes of functions run by events: calling a function with its bindings, the queue
consumer, the timer scheduler, the concurrency slots. Celery workers and the embedded
threads run them, as they run orchestrations."""
