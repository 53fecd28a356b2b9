"""The metadata agent and the namespace proxy in front of it."""
