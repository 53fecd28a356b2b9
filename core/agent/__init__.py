"""The agents' side: RPC clients, state reports, notification consumers and the reconciler loop."""
