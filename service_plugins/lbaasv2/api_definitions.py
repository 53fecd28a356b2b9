"""The lbaasv2 API extension: listed in /v2.0/extensions; its paths are the plugin's own routes."""
from netweave.core.api.extension import Extension

LBAASV2 = Extension(
    alias="lbaasv2", name="LoadBalancing service v2",
    description="Extension for LoadBalancing service v2 (served under /v2/lbaas and /v2.0/lbaas with the "
                "Octavia v2 API's shapes)",
    updated="2014-06-18T10:00:00-00:00",
)

LBAAS_AGENT_SCHEDULERV2 = Extension(
    alias="lbaas_agent_schedulerv2", name="Loadbalancer Agent Scheduler V2",
    description="Schedule load balancers among lbaas agents (GET /v2.0/lbaas/loadbalancers/<id>/"
                "loadbalancer-hosting-agent, GET /v2.0/agents/<id>/agent-loadbalancers)",
    updated="2013-02-07T10:00:00-00:00",
    requires=("lbaasv2", "agent"),
)
