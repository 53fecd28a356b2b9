"""Resource services the core plugin is composed of: one per resource family."""
