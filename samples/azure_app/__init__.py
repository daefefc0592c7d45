"""A function app written for Azure Functions, run by Perdura unmodified (function_app.py)."""
