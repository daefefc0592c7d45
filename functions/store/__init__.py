"""The SQL of functions run by events: durable queues, timer claims, concurrency slots."""
