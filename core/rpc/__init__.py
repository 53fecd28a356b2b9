"""RPC between the server and the agents over oslo.messaging."""
