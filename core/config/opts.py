"""Option lists for oslo-config-generator (entry points in setup.cfg)."""
from netweave.core.config import agent, common, ml2
from netweave.mechanism_drivers.l2population import mech_driver as l2population


def list_server_opts():
    return [
        ("DEFAULT", common.core_opts),
        ("database", common.database_opts),
        ("quotas", common.quota_opts),
    ]


def list_agent_opts():
    return [("agent", agent.agent_opts)]


def list_ml2_opts():
    return [
        ("ml2", ml2.ml2_opts),
        ("ml2_type_flat", ml2.flat_opts),
        ("ml2_type_vlan", ml2.vlan_opts),
        ("ml2_type_vxlan", ml2.vxlan_opts),
        ("ml2_type_gre", ml2.gre_opts),
        ("ml2_type_geneve", ml2.geneve_opts),
    ] + l2population.list_opts()
