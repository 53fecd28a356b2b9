"""Service plugin ``router``: routers, their interfaces and gateways, and floating IPs."""
