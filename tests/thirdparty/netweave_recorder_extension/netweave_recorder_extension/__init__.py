"""Example third-party L2 agent extension for netweave (see extension.py)."""
