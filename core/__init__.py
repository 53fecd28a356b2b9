"""netweave core: configuration, API framework, database, IPAM and the ML2 core plugin."""
