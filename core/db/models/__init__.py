"""Tables of the core resources (one module each)."""
