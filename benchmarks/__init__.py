"""Benchmarks of minimax-async: per-call overhead, fan-out and rate limits (scripts, not tests).

Run everything with ``python -m benchmarks`` (``--quick`` for a smoke run); see README.md.
"""
