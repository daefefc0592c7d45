"""Durable entities: small stateful objects addressed by (name, key), one operation at a time."""
