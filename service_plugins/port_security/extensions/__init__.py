"""API extensions of the port_security service plugin (entry points in netweave.api_extensions)."""
