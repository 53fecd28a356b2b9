"""ML2 extension drivers ``dns`` (dns-integration) and ``dns_domain_ports`` (both extensions).

Without an external DNS service, as in Neutron:
- a network's dns_domain is stored and shown ('' when none);
- a port's dns_name (and, with dns_domain_ports, its dns_domain) is stored only
  when [DEFAULT] dns_domain is set to something other than the default
  ``openstacklocal``; with the default, Neutron ignores them and so do we;
- dns_assignment is computed on every read: one {hostname, ip_address, fqdn}
  per fixed IP, the hostname being the port's dns_name or host-<address>, the
  FQDN ending with [DEFAULT] dns_domain (names.assignment). The DHCP agents
  serve it (``dhcp_attributes``): dnsmasq hands each instance its host name.
The configured domain is read from cfg.CONF when needed, as Neutron reads it.
"""
import sqlalchemy as sa
from oslo_config import cfg

from netweave.core.api import faults
from netweave.core.db.models import network as net_models
from netweave.core.plugins.ml2 import driver_api
from netweave.core.services import page as page_mod
from netweave.service_plugins.dns import api_definitions as api
from netweave.service_plugins.dns import models, names

_PORT_DNS_T = models.PortDns.__table__
_PORT_ROWS = page_mod.Side(_PORT_DNS_T.c.port_id, _PORT_DNS_T.c.dns_name, _PORT_DNS_T.c.dns_domain)
_NETWORK_DOMAIN_T = models.NetworkDnsDomain.__table__
_NETWORK_DOMAINS = page_mod.Side(_NETWORK_DOMAIN_T.c.network_id, _NETWORK_DOMAIN_T.c.dns_domain)
_NO_ROW = ("", "")


def _conf_domain():
    return cfg.CONF.dns_domain


def _check_name_fits_domain(dns_name):
    reason = names.name_domain_problem(dns_name, _conf_domain()) if dns_name else None
    if reason:
        raise faults.bad_request("Invalid input for %s. Reason: %s." % (api.DNS_NAME, reason))


def _port_rows(session, port_ids, page=None, chunk=500):
    """{port_id: (dns_name, dns_domain)} of those ports that have a row.

    Joined to ``page`` (core/services/page.py, the ports' page) when given: one query.
    """
    if page is not None:
        rows = page.rows(session, _PORT_ROWS)
    else:
        rows = []
        for start in range(0, len(port_ids), chunk):
            rows.extend(session.execute(_PORT_ROWS.statement.where(
                _PORT_DNS_T.c.port_id.in_(port_ids[start:start + chunk]))).all())
    return {port_id: (dns_name, dns_domain) for port_id, dns_name, dns_domain in rows}


class DnsIntegrationDriver(driver_api.ExtensionDriver):
    """``dns``: dns_name and dns_assignment of ports, dns_domain of networks."""

    extension_alias = "dns-integration"
    extends_port_pages = True
    port_page_sides = (_PORT_ROWS,)
    extends_network_pages = True
    network_page_sides = (_NETWORK_DOMAINS,)
    dhcp_attributes = frozenset((api.DNS_ASSIGNMENT,))
    # Whether ports carry a dns_domain of their own (dns_domain_ports).
    port_domains = False

    # --- networks --------------------------------------------------------------

    def process_create_network(self, plugin_context, data, result):
        domain = data.get(api.DNS_DOMAIN) or ""
        if domain:
            plugin_context.session.add(models.NetworkDnsDomain(network_id=result["id"], dns_domain=domain))
            plugin_context.session.flush()
        result[api.DNS_DOMAIN] = domain

    def process_update_network(self, plugin_context, data, result):
        if data.get(api.DNS_DOMAIN) is None:
            return
        session = plugin_context.session
        row = session.get(models.NetworkDnsDomain, result["id"])
        domain = data[api.DNS_DOMAIN]
        if row is not None and not domain:
            session.delete(row)
        elif row is not None:
            row.dns_domain = domain
        elif domain:
            session.add(models.NetworkDnsDomain(network_id=result["id"], dns_domain=domain))
        session.flush()
        result[api.DNS_DOMAIN] = domain

    def extend_network_dict(self, session, db_obj, result):
        # Networks read as plain rows (a port create's snapshot) carry no relationships.
        if not isinstance(db_obj, net_models.Network):
            return
        row = db_obj.dns_domain_row
        result[api.DNS_DOMAIN] = row.dns_domain if row is not None else ""

    def extend_network_dicts(self, connection, results, page):
        domains = dict(page.rows(connection, _NETWORK_DOMAINS))
        for network_id, result in results.items():
            result[api.DNS_DOMAIN] = domains.get(network_id) or ""

    # --- ports -----------------------------------------------------------------

    def _requested(self, data):
        """(dns_name, dns_domain) the request sets, None for each it leaves alone."""
        domain = data.get(api.DNS_DOMAIN) if self.port_domains else None
        return data.get(api.DNS_NAME), domain

    def process_create_port(self, plugin_context, data, result):
        dns_name, domain = self._requested(data)
        stored = _NO_ROW
        if (dns_name or domain) and names.names_honoured(_conf_domain()):
            _check_name_fits_domain(dns_name)
            stored = (dns_name or "", domain or "")
            plugin_context.session.execute(sa.insert(models.PortDns.__table__), {
                "port_id": result["id"], "dns_name": stored[0], "dns_domain": stored[1]})
        self._fill(result, stored)

    def process_update_port(self, plugin_context, data, result):
        dns_name, domain = self._requested(data)
        session = plugin_context.session
        row = session.get(models.PortDns, result["id"])
        if (dns_name is not None or domain is not None) and names.names_honoured(_conf_domain()):
            _check_name_fits_domain(dns_name)
            if row is None:
                row = models.PortDns(port_id=result["id"], dns_name=dns_name or "", dns_domain=domain or "")
                session.add(row)
            else:
                if dns_name is not None:
                    row.dns_name = dns_name
                if domain is not None:
                    row.dns_domain = domain
            session.flush()
        self._fill(result, _NO_ROW if row is None else (row.dns_name, row.dns_domain))

    def extend_port_dict(self, session, db_obj, result):
        self._fill(result, _port_rows(session, [result["id"]]).get(result["id"], _NO_ROW))

    def extend_port_dicts(self, connection, results, page=None):
        found = _port_rows(connection, list(results), page)
        for port_id, result in results.items():
            self._fill(result, found.get(port_id, _NO_ROW))

    def _fill(self, result, stored):
        dns_name, domain = stored
        result[api.DNS_NAME] = dns_name
        result[api.DNS_ASSIGNMENT] = names.assignment(result.get("fixed_ips"), dns_name, _conf_domain())
        if self.port_domains:
            result[api.DNS_DOMAIN] = domain


class DnsDomainPortsDriver(DnsIntegrationDriver):
    """``dns_domain_ports``: all of ``dns``, and a dns_domain on ports (dns-domain-ports)."""

    extension_alias = "dns-domain-ports"
    port_domains = True

    @property
    def extension_aliases(self):
        return ("dns-integration", "dns-domain-ports")
