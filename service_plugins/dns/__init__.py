"""DNS integration without an external DNS service (Neutron's ``dns`` and ``dns_domain_ports``
ML2 extension drivers): ports' dns_name and dns_assignment, networks' and ports' dns_domain."""
