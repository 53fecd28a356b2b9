"""RPC topic of port_security: the server casts security group changes to the agents on it."""
SECURITY_GROUP = "security_group"
