"""l2population: the server tells every tunnel endpoint where each port lives.

When a port turns ACTIVE on a host, every other L2 agent of the port's
network learns the port's (MAC, IP) behind that host's tunnel IP, plus a
flooding entry for the host when it is the host's first port on the network;
the host itself gets the whole list of the network's other endpoints. When
the port goes DOWN, moves or is deleted, the same entries are withdrawn.

mech_driver.py  the ML2 mechanism driver (entry point ``l2population``)
db.py           the queries it makes (ports, bindings, agents' tunnel IPs)
rpc.py          the casts on q-agent-notifier-l2population-update
"""
