"""The DHCP agent: one namespace and one dnsmasq per network."""
