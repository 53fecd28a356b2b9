"""netweave-all-in-one: one process, SQLite under state_path, noauth, 127.0.0.1:9696.

Migrations run automatically and the API is served in this very process by
the HTTP server netweave-server uses too (core/api/http_server.py), so a
single command gives a working endpoint. The agents' RPC servers run in it
too: on the in-process transport (fake://) unless a configuration file
sets transport_url, e.g. to a RabbitMQ that agents on other hosts reach.

Started as root, it also runs the Linux bridge agent for its own host in
a thread (core/cmd/in_process_agent.py: ``[DEFAULT] l2_agent``,
``--l2-agent``, ``--l2-agent-netns``), and the L3 agent beside it when the
router service plugin is loaded (``[DEFAULT] l3_agent``); ports bound to
``[DEFAULT] host`` are then wired and turn ACTIVE, and routers route,
without any other process.

Without ``--config-file`` every installed service plugin and ML2 extension
driver is enabled, so the single node has everything that is installed; so
it is with ini files that name neither service plugins nor extension drivers.
"""
import argparse
import logging
import os
import sys

from oslo_config import cfg

from netweave.core import memory, service
from netweave.core.api import builder, http_server
from netweave.core.cmd import common, in_process_agent, rpc_server, server
from netweave.core.db import setup as db_setup
from netweave.core.plugins.ml2 import loading, managers
from netweave.core.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="netweave-all-in-one", description=__doc__)
    parser.add_argument("--state-path", default="./state", help="Where the SQLite file and state live.")
    parser.add_argument("--bind-host", default="127.0.0.1")
    parser.add_argument("--bind-port", type=int, default=9696)
    parser.add_argument("--config-file", action="append", default=[],
                        help="Extra ini files (netweave.conf, ml2_conf.ini) read after the defaults.")
    parser.add_argument("--l2-agent", choices=in_process_agent.CHOICES,
                        help="L2 agent to run in this process (default: linuxbridge when root, else none).")
    parser.add_argument("--l2-agent-netns", help="Network namespace whose devices that agent wires.")
    return parser.parse_args(argv)


def build_conf(args, conf=cfg.CONF):
    cli = []
    for path in args.config_file:
        cli += ["--config-file", path]
    in_process_agent.register_opts(conf)
    http_server.register_opts(conf)
    common.parse_config(cli, conf)
    if args.l2_agent:
        conf.set_override("l2_agent", args.l2_agent)
    if args.l2_agent_netns:
        conf.set_override("l2_agent_netns", args.l2_agent_netns)
    state_path = os.path.abspath(args.state_path)
    conf.set_override("state_path", state_path)
    conf.set_override("bind_host", args.bind_host)
    conf.set_override("bind_port", args.bind_port)
    # Defaults for a single node unless an ini file says otherwise.
    if not args.config_file:
        conf.set_override("auth_strategy", "noauth")
        conf.set_override("type_drivers", ["local", "flat", "vlan", "vxlan", "gre", "geneve"], "ml2")
        conf.set_override("tenant_network_types", ["vxlan", "local"], "ml2")
        conf.set_override("flat_networks", ["*"], "ml2_type_flat")
        conf.set_override("network_vlan_ranges", ["physnet1:100:199"], "ml2_type_vlan")
        conf.set_override("vni_ranges", ["1:1000"], "ml2_type_vxlan")
        conf.set_override("tunnel_id_ranges", ["1:1000"], "ml2_type_gre")
        conf.set_override("vni_ranges", ["1:1000"], "ml2_type_geneve")
        # Everything installed is on: each service plugin and ML2 extension driver.
        conf.set_override("service_plugins", loading.installed_names(service.SERVICE_PLUGIN_NAMESPACE))
        conf.set_override("extension_drivers", loading.installed_names(managers.EXTENSION_NAMESPACE), "ml2")
    elif (conf.get_location("service_plugins").location == cfg.Locations.opt_default
          and conf.get_location("extension_drivers", "ml2").location == cfg.Locations.opt_default):
        # A single node is a whole cloud network (routers included): ini files that name
        # neither service plugins nor extension drivers get everything installed too.
        conf.set_override("service_plugins", loading.installed_names(service.SERVICE_PLUGIN_NAMESPACE))
        conf.set_override("extension_drivers", loading.installed_names(managers.EXTENSION_NAMESPACE), "ml2")
    agent = in_process_agent.choose(conf)[0]
    if (agent in (in_process_agent.LINUXBRIDGE, in_process_agent.OPENVSWITCH)
            and conf.get_location("mechanism_drivers", "ml2").location == cfg.Locations.opt_default):
        # Its own agent binds ports to this host; an ini file naming drivers decides itself.
        conf.set_override("mechanism_drivers", [agent], "ml2")
    # The all-in-one always sends messages, over the in-process transport at least.
    rpc_transport.register_opts(conf)
    if not rpc_transport.url_configured(conf):
        conf.set_override("transport_url", rpc_transport.IN_PROCESS_URL)
    return conf


def build(conf):
    """The WSGI application and the started RPC servers of one all-in-one process."""
    core_plugin, service_plugins = server.load_plugins(conf, sync=True)
    app = builder.build_wsgi_app(conf, core_plugin, service_plugins)
    return app, rpc_server.start_servers(conf, core_plugin, service_plugins)


def main(argv=None):
    args = _parse(sys.argv[1:] if argv is None else argv)
    conf = build_conf(args)
    try:
        db_setup.upgrade(db_setup.database_url(conf))
        app, rpc_servers = build(conf)
    except RuntimeError as error:
        common.fail(str(error))
    try:
        agent = in_process_agent.start(conf)
    except in_process_agent.AgentError as error:
        rpc_servers.stop()
        common.fail(str(error))
    try:
        listener = http_server.listen(conf.bind_host, conf.bind_port, conf.backlog)
        memory.prepare_for_serving()
        print("netweave serving the Neutron v2.0 API on http://%s:%s/ (state in %s)"
              % (conf.bind_host, conf.bind_port, conf.state_path), flush=True)
        # SIGTERM or Ctrl-C: stop accepting, finish the requests in flight, then return.
        http_server.HttpServer(app, http_server.limits_from_conf(conf)).serve([listener])
    finally:
        if agent is not None:
            agent.stop()
        rpc_servers.stop()
        rpc_transport.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
