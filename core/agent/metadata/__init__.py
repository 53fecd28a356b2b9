"""The metadata agent and the namespace proxy in front of it.

instance -> haproxy in qdhcp-/qrouter- (proxy.py) -> unix socket -> netweave-metadata-agent
(agent.py: handler.py answers each request, lookup.py finds the port over rpc.py,
backend.py forwards it signed) -> the metadata backend (Nova's metadata API).
Options: config.py; the server's side of the RPC: core/rpc/metadata_endpoint.py.
"""
