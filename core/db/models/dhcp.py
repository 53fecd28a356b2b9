"""Which DHCP agents host which networks."""
