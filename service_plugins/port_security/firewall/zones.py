"""Conntrack zones: one per network on this host, as Neutron's zone manager keeps them
(one per port with hybrid plugging: the map is keyed by whatever owns a zone).

Ports of one network share a zone, so two networks with overlapping addresses
never see each other's connections. A network keeps its zone while it has
ports here; a new network takes the lowest free zone. ``preferred`` seeds the
map from what the kernel already uses (after an agent restart) so existing
flows keep their zone.
"""
MIN_ZONE, MAX_ZONE = 1, 65535


class ZoneMap:
    def __init__(self):
        self.zones = {}

    def assign(self, network_ids, preferred=None):
        """Zones for exactly ``network_ids``; returns {network id: zone}."""
        wanted = set(network_ids)
        for network_id in list(self.zones):
            if network_id not in wanted:
                del self.zones[network_id]
        used = set(self.zones.values())
        for network_id, zone in sorted((preferred or {}).items()):
            if network_id in wanted and network_id not in self.zones and zone not in used:
                self.zones[network_id] = zone
                used.add(zone)
        candidate = MIN_ZONE
        for network_id in sorted(wanted - set(self.zones)):
            while candidate in used:
                candidate += 1
            if candidate > MAX_ZONE:
                raise RuntimeError("no free conntrack zone")
            self.zones[network_id] = candidate
            used.add(candidate)
        return dict(self.zones)
