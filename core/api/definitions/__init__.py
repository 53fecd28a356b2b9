"""Attribute maps of the core resources: networks, subnets, subnet pools and ports."""
