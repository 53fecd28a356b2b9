"""ML2 type drivers: local, flat, vlan, vxlan, gre and geneve.

Each driver validates provider attributes, hands out segmentation ids from the
ranges in ml2_conf.ini and reports the MTU of its networks. Allocation state
lives only in the database (see ``segment_pool``), so any number of server
processes can share one deployment.
"""
