"""Option lists for oslo-config-generator (entry points in setup.cfg)."""
from oslo_config import cfg

from netweave.core.api import http_server
from netweave.core.config import agent, common, ml2
from netweave.mechanism_drivers.l2population import mech_driver as l2population

# oslo.messaging declares and registers transport_url itself (core.rpc.transport);
# this copy only documents it in netweave.conf.sample, which every process reads
# (the agents too), and is never registered.
_sampled_messaging_opts = [
    cfg.StrOpt("transport_url", secret=True, sample_default="rabbit://netweave:password@controller:5672/",
               help="Message bus the server and the agents talk over (oslo.messaging URL). Unset in "
                    "the all-in-one server, whose agents share its process. Agents on other hosts "
                    "need the same value as the server."),
]


def list_server_opts():
    return [
        ("DEFAULT", common.core_opts + _sampled_messaging_opts + http_server.server_opts),
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
