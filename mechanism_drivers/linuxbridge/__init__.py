"""Linux bridge: the ML2 mechanism driver (server side) and its L2 agent (one per host).

The agent keeps one Linux bridge per network (brq<network id[:11]>) holding
the taps of that network's ports and, for flat/vlan/vxlan networks, an uplink:
the physical NIC, a <nic>.<vid> VLAN device or a vxlan-<vni> device.

Its work is split so that every decision is a pure function:

  kernel_state.read()  ->  KernelState      (what the kernel has now)
  desired.compute()    ->  Layout           (what the ports need)
  planner.plan()       ->  [Operation]      (the difference, in a safe order)
  applier.Applier      ->  the kernel       (one netlink socket)

fdb.py does the same for l2population entries.

agent.py puts these together behind the three calls the reconciler loop of
netweave.core.agent.loop makes (scan_devices, plan, apply); cmd.py runs that
loop on the RPC layer, with notifications.py as the agent's RPC endpoints.
mech_driver.py is the server side: port binding.
"""
