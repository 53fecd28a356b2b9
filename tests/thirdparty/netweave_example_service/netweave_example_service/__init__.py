"""netweave-example-service: widgets, a resource of its own, each owning one port."""
