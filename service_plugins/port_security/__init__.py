"""port_security: security groups, port security and allowed address pairs, with the agents' firewall drivers."""
