"""API extension definitions; each module declares EXTENSION (or EXTENSIONS)."""
