"""Open vSwitch: the ML2 mechanism driver and the L2 agent that wires ports on each host.

The agent works in three steps, each in its own module:
  desired.py     what the host should look like (pure)
  planner.py     what has to change to get there (pure)
  applier.py     one OVSDB transaction plus one flow bundle per changed bridge
"""
