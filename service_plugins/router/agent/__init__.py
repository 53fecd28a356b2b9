"""The L3 agent's data plane: router descriptions into qrouter- namespace state."""
