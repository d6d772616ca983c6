"""Orchestration over the resources: waiting on runs (polling, tools) and fanning out many."""
