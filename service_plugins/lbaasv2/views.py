"""Rows as the Octavia v2 API shows them (a superset of the LBaaS v2 shapes)."""
from netweave.core.services import common
from netweave.service_plugins.lbaasv2 import constants as const


def _base(row, tree):
    return {
        "id": row.id, "name": row.name, "project_id": row.project_id, "tenant_id": row.project_id,
        "admin_state_up": row.admin_state_up, "provisioning_status": row.provisioning_status,
        "operating_status": row.operating_status, "created_at": common.format_time(row.created_at),
        "updated_at": common.format_time(row.updated_at), "tags": tree.tags_of(row.id),
    }


def _ids(values):
    return [{"id": value} for value in sorted(values)]


def loadbalancer(row, tree):
    view = _base(row, tree)
    view.update(description=row.description, vip_address=row.vip_address, vip_port_id=row.vip_port_id,
                vip_subnet_id=row.vip_subnet_id, vip_network_id=row.vip_network_id, vip_qos_policy_id=None,
                provider=row.provider, flavor_id=None, availability_zone=None, additional_vips=[],
                vip_vnic_type="normal", listeners=_ids(tree.listeners_of_lb(row.id)),
                pools=_ids(tree.pools_of_lb(row.id)))
    return view


def listener(row, tree):
    view = _base(row, tree)
    view.update(description=row.description, protocol=row.protocol, protocol_port=row.protocol_port,
                connection_limit=row.connection_limit, default_pool_id=row.default_pool_id,
                default_tls_container_ref=None, sni_container_refs=[], loadbalancers=_ids([row.loadbalancer_id]),
                l7policies=[], insert_headers={}, timeout_client_data=50000, timeout_member_connect=5000,
                timeout_member_data=50000, timeout_tcp_inspect=0, allowed_cidrs=None,
                # No TLS termination here: Octavia's TLS attributes, all unset.
                client_authentication="NONE", client_ca_tls_container_ref=None, client_crl_container_ref=None,
                tls_ciphers=None, tls_versions=None, alpn_protocols=None)
    return view


def pool(row, tree):
    view = _base(row, tree)
    persistence = None
    if row.persistence_type:
        persistence = {"type": row.persistence_type, "cookie_name": row.persistence_cookie_name}
    view.update(description=row.description, protocol=row.protocol, lb_algorithm=row.lb_algorithm,
                session_persistence=persistence, healthmonitor_id=tree.monitor_of_pool(row.id),
                listeners=_ids(tree.listeners_of_pool(row.id)), loadbalancers=_ids([row.loadbalancer_id]),
                members=_ids(tree.members_of_pool(row.id)), tls_enabled=False, tls_container_ref=None,
                ca_tls_container_ref=None, crl_container_ref=None, tls_ciphers=None, tls_versions=None,
                alpn_protocols=None)
    return view


def member(row, tree):
    view = _base(row, tree)
    view.update(address=row.address, protocol_port=row.protocol_port, subnet_id=row.subnet_id, weight=row.weight,
                backup=False, monitor_address=None, monitor_port=None, pool_id=row.pool_id,
                vnic_type="normal")
    return view


def healthmonitor(row, tree):
    view = _base(row, tree)
    http = row.type in const.HTTP_MONITORS
    view.update(type=row.type, delay=row.delay, timeout=row.timeout, max_retries=row.max_retries,
                max_retries_down=row.max_retries_down, http_method=row.http_method if http else None,
                url_path=row.url_path if http else None, expected_codes=row.expected_codes if http else None,
                pools=_ids([row.pool_id]), http_version=None, domain_name=None)
    return view
