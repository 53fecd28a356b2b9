"""The agent framework every netweave agent is built on.

An agent is a small set of parts, each in a module of its own:

``loop.ReconcileLoop``
    The reconciler: passes over the host's devices (full or incremental),
    one details call and one report call per pass. The agent supplies
    ``scan_devices()``, ``plan(desired, actual)`` and ``apply(plan) -> Outcome``;
    planning is pure, applying does the kernel work in batches. The clock is
    injectable. Notification endpoints only call ``mark_dirty``, ``wake`` or
    ``request_resync``.
``plugin_client.PluginClient``
    The server as an L2 agent sees it (device details, up/down reports,
    tunnel_sync), over ``rpc.PluginApi`` or, without RPC, a ``LocalServer``.
``state_reporter.StateReporter``
    Heartbeats; tells the loop to resync when the server had given the agent
    up or the broker connection was lost.
``notifications.create_consumers``
    RPC servers for the server's fanout casts.
``extensions``
    Agent extensions (entry-point group ``netweave.agent.extensions``, named in
    ``[agent] extensions``), told about every port wired or removed.
``commands.run`` / ``commands.run_all``
    Every short-lived command (ip, ovs-vsctl, iptables-restore, ...): namespace,
    timeout, stdin, the xtables lock, one ``CommandError``.
``external_process``
    Long-lived daemons (dnsmasq, haproxy) by pid file, respawned when they die.
``service``
    A process's skeleton: ``parse_config``, ``fail``, ``Runner`` (run until
    SIGTERM, or in a thread of netweave-all-in-one), and ``connect_l2_agent``
    (loop, plugin client, firewall, consumers, heartbeats, extensions in one call).

A new L2-style agent (an L3 agent, say) writes its scan/plan/apply class and
its notification endpoints, then:

    connection = service.connect_l2_agent(conf, agent, agent_id, host, "my_driver",
                                          endpoints=lambda loop: [MyNotifications(agent, loop)],
                                          subscriptions=..., state_provider=agent.agent_state)
    return service.Runner("my agent", run=connection.loop.run, stop=connection.loop.stop,
                          starters=connection.starters, stoppers=connection.stoppers).serve()

Agents import no server database code (SQLAlchemy, Alembic): see
tests/functional/test_agent_imports.py.
"""
