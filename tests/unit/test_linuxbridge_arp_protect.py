"""The Linux bridge agent's ARP/MAC anti-spoofing chains, rendered and diffed (pure)."""
from netweave.mechanism_drivers.linuxbridge import arp_protect


def details(mac="fa:16:3e:00:00:01", ips=("10.0.0.5",), owner="compute:nova", **extra):
    result = {"mac_address": mac, "device_owner": owner, "fixed_ips": [{"ip_address": ip} for ip in ips]}
    result.update(extra)
    return result


def test_a_protected_port_may_send_from_its_macs_and_arp_for_its_ipv4_addresses():
    chains = arp_protect.render({"tapa": details(
        ips=("10.0.0.5", "2001:db8::5"),
        allowed_address_pairs=[{"ip_address": "10.0.1.0/24", "mac_address": "FA:16:3E:00:00:02"},
                               {"ip_address": "10.0.0.6"}])})
    assert chains == {
        "lb-arp-protect": ("-i tapa -j lbMAC-tapa", "-p ARP -i tapa -j lbARP-tapa"),
        "lbMAC-tapa": ("-s fa:16:3e:00:00:01 -j RETURN", "-s fa:16:3e:00:00:02 -j RETURN", "-j DROP"),
        "lbARP-tapa": ("-p ARP --arp-ip-src 10.0.0.5 -j ACCEPT", "-p ARP --arp-ip-src 10.0.1.0/24 -j ACCEPT",
                       "-p ARP --arp-ip-src 10.0.0.6 -j ACCEPT", "-j DROP"),
    }


def test_ports_without_port_security_trusted_ports_and_ports_without_addresses_are_left_alone():
    assert arp_protect.render({
        "tapa": details(port_security_enabled=False),
        "tapb": details(owner="network:dhcp"),
        "tapc": {"mac_address": "fa:16:3e:00:00:03", "device_owner": "compute:nova"},
    }) == {}


def test_restore_changes_only_what_differs_and_hooks_once():
    first = arp_protect.render({"tapa": details()})
    text = arp_protect.restore_text({}, False, first)
    assert "-A PREROUTING -j lb-arp-protect" in text and ":lbARP-tapa RETURN" in text
    assert arp_protect.restore_text(first, True, first) is None
    second = arp_protect.render({"tapa": details(), "tapb": details(mac="fa:16:3e:00:00:09", ips=("10.0.0.9",))})
    text = arp_protect.restore_text(first, True, second)
    assert "PREROUTING" not in text and ":lbARP-tapa" not in text
    assert ":lb-arp-protect RETURN" in text and ":lbMAC-tapb RETURN" in text
    text = arp_protect.restore_text(second, True, {})
    assert "-D PREROUTING -j lb-arp-protect" in text and "-X lbMAC-tapb" in text and "-X lb-arp-protect" in text


def test_ebtables_save_is_read_back_to_our_chains_only():
    desired = arp_protect.render({"tapa": details()})
    text = arp_protect.restore_text({}, False, desired)
    save = text.replace("*nat", "*nat\n:PREROUTING ACCEPT\n:neutronARP-tapx RETURN\n-A neutronARP-tapx -j DROP")
    save = "\n".join(line for line in save.splitlines() if not line.startswith("-X"))
    assert arp_protect.parse_save(save) == (desired, True)
