"""Example third-party mechanism driver for netweave (see driver.py)."""
