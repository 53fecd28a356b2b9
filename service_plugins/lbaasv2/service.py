"""LBaaS v2 resources in the database: create, read, update, delete, with the API's rules.

Every change moves the load balancer to PENDING_UPDATE (PENDING_CREATE /
PENDING_DELETE for its own create and delete) and the changed entity to
PENDING_*, then asks the provisioner to deploy; while a load balancer is
pending nothing in its tree may change (409 ImmutableObject). The provisioner
calls ``finish`` when the driver has applied the tree: pending entities become
ACTIVE, and those pending deletion go (with the VIP port for the load balancer).
"""
import logging

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.services import common
from netweave.core.services import tags as tag_rules
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import exceptions as lexc
from netweave.service_plugins.lbaasv2 import filters as lbaas_filters
from netweave.service_plugins.lbaasv2 import models, rules, statuses, views
from netweave.service_plugins.lbaasv2.tree import Tree

LOG = logging.getLogger(__name__)

_NAMES = {models.LoadBalancer: "Load Balancer", models.Listener: "Listener", models.Pool: "Pool",
          models.Member: "Member", models.HealthMonitor: "Health Monitor"}
_VIEWS = {models.LoadBalancer: views.loadbalancer, models.Listener: views.listener, models.Pool: views.pool,
          models.Member: views.member, models.HealthMonitor: views.healthmonitor}


def _counters_view(row):
    """Octavia's stats object; zeros until the agent reports."""
    return {name: getattr(row, name) if row else 0 for name in models.COUNTERS}


def _write_counters(row, counters):
    for name in models.COUNTERS:
        setattr(row, name, _counter(counters.get(name)))


def _counter(value):
    # An agent's report is trusted for shape only: what is not a count reads 0.
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def _visible(context, row):
    return context.is_admin or row.project_id == context.project_id


def _child_project(context, data, parent):
    """A child's project: the one given (which must be the parent's), else the parent's."""
    if not (data.get("project_id") or data.get("tenant_id")):
        return parent.project_id
    project = _project_of(context, data)
    rules.check_project(project, parent)
    return project


def _project_of(context, data):
    project = data.get("project_id") or data.get("tenant_id") or context.project_id
    if project != context.project_id and not context.is_admin:
        raise exc.PolicyNotAuthorized(action="create with another project_id")
    return project or ""


def _write_tags(session, kind, item_id, data, creating):
    """The tags of a create body, or the new list of an update that names them."""
    if "tags" not in data:
        return
    if not creating:
        common.delete_tags(session, item_id)
    tag_rules.write_on_create(session, kind, item_id, data["tags"])


def _forget_tags(session, item_ids):
    for item_id in item_ids:
        common.delete_tags(session, item_id)


class LoadBalancerService:
    def __init__(self, quotas, subnets, ports, provisioner):
        self.quotas = quotas
        self.subnets = subnets
        self.ports = ports
        self.provisioner = provisioner

    # --- reads ---------------------------------------------------------------

    def _get(self, session, context, model, item_id):
        row = session.get(model, item_id)
        if row is None or not _visible(context, row):
            raise lexc.EntityNotFound(name=_NAMES[model], id=item_id)
        return row

    def show(self, context, model, item_id):
        with db_api.reader_scope() as session:
            row = self._get(session, context, model, item_id)
            return _VIEWS[model](row, Tree(session, [row.loadbalancer_id if model is not models.LoadBalancer
                                                     else row.id]))

    def list(self, context, model, filters, pool_id=None):
        with db_api.reader_scope() as session:
            stmt = sa.select(model).order_by(model.created_at, model.id)
            if not context.is_admin:
                stmt = stmt.where(model.project_id == context.project_id)
            if pool_id is not None:
                pool = self._get(session, context, models.Pool, pool_id)
                stmt = stmt.where(model.pool_id == pool.id)
            rows = list(session.scalars(stmt))
            lb_ids = {r.id if model is models.LoadBalancer else r.loadbalancer_id for r in rows}
            tree = Tree(session, lb_ids)
            items = [_VIEWS[model](r, tree) for r in rows]
        return [item for item in items if lbaas_filters.matches(item, filters)]

    @staticmethod
    def agent_of(lb_id):
        with db_api.reader_scope() as session:
            return session.scalar(sa.select(models.LoadBalancer.agent_id).where(models.LoadBalancer.id == lb_id))

    def loadbalancers_of_agent(self, context, agent_id):
        with db_api.reader_scope() as session:
            rows = list(session.scalars(sa.select(models.LoadBalancer).where(models.LoadBalancer.agent_id == agent_id)
                                        .order_by(models.LoadBalancer.created_at, models.LoadBalancer.id)))
            tree = Tree(session, [r.id for r in rows])
            return [views.loadbalancer(r, tree) for r in rows]

    def status(self, context, lb_id):
        with db_api.reader_scope() as session:
            self._get(session, context, models.LoadBalancer, lb_id)
            return statuses.status_tree(Tree(session, [lb_id]), lb_id)

    def stats(self, context, lb_id):
        with db_api.reader_scope() as session:
            self._get(session, context, models.LoadBalancer, lb_id)
            return _counters_view(session.get(models.LoadBalancerStats, lb_id))

    def listener_stats(self, context, listener_id):
        with db_api.reader_scope() as session:
            self._get(session, context, models.Listener, listener_id)
            return _counters_view(session.get(models.ListenerStats, listener_id))

    # --- load balancers ------------------------------------------------------

    def create_loadbalancer(self, context, data):
        project = _project_of(context, data)
        subnet, address, port_id = self._vip_target(context, data)
        lb_id = model_base.new_uuid()
        if port_id is None:
            fixed_ip = {"subnet_id": subnet["id"]}
            if address:
                fixed_ip["ip_address"] = address
            port = self.ports.create(context.elevated(), {
                "project_id": project, "tenant_id": project, "name": "loadbalancer-" + lb_id, "description": "",
                "network_id": subnet["network_id"], "admin_state_up": True, "mac_address": None,
                "fixed_ips": [fixed_ip], "device_id": lb_id, "device_owner": const.DEVICE_OWNER_VIP})
        else:
            port = self.ports.update(context.elevated(), port_id, {
                "device_id": lb_id, "device_owner": const.DEVICE_OWNER_VIP})
        vip = next(ip for ip in port["fixed_ips"] if ip["subnet_id"] == subnet["id"])
        try:
            with db_api.session_scope() as session:
                self.quotas.check(session, project, const.LOADBALANCER)
                row = models.LoadBalancer(
                    id=lb_id, project_id=project, name=data["name"], description=data["description"],
                    admin_state_up=data["admin_state_up"], provisioning_status=const.PENDING_CREATE,
                    operating_status=const.OFFLINE, vip_subnet_id=subnet["id"], vip_network_id=subnet["network_id"],
                    vip_port_id=port["id"], vip_address=vip["ip_address"], provider=const.PROVIDER)
                session.add(row)
                session.flush()
                _write_tags(session, const.LOADBALANCER, lb_id, data, creating=True)
                view = views.loadbalancer(row, Tree(session, [lb_id]))
        except BaseException:
            # Nothing half-made: a port the plugin created goes with the failed load balancer.
            if port_id is None:
                self._delete_port(context, port["id"])
            raise
        self.provisioner.changed(lb_id)
        return view

    def _vip_target(self, context, data):
        """(subnet, requested address, existing port id) of the VIP."""
        port_id = data.get("vip_port_id")
        subnet_id = data.get("vip_subnet_id")
        network_id = data.get("vip_network_id")
        if not (port_id or subnet_id or network_id):
            raise lexc.ValidationFailure(detail="VIP must contain one of: vip_port_id, vip_network_id, "
                                                "vip_subnet_id.")
        address = data.get("vip_address")
        if port_id:
            try:
                port = self.ports.get(context, port_id)
            except exc.PortNotFound:
                raise lexc.ValidationFailure(detail="Port %s could not be found." % port_id)
            if port["device_owner"] or port["device_id"]:
                raise lexc.VipPortInUse(port_id=port_id, owner=port["device_owner"] or port["device_id"])
            if not port["fixed_ips"]:
                raise lexc.ValidationFailure(detail="Port %s has no fixed IP." % port_id)
            ip = port["fixed_ips"][0]
            return self._subnet(context, ip["subnet_id"]), ip["ip_address"], port_id
        if subnet_id:
            subnet = self._subnet(context, subnet_id)
            if network_id and subnet["network_id"] != network_id:
                raise lexc.ValidationFailure(detail="vip_subnet_id %s is not on vip_network_id %s."
                                                    % (subnet_id, network_id))
            return subnet, address, None
        candidates = [s for s in self.subnets.list(context, filters={"network_id": [network_id]})]
        if not candidates:
            raise lexc.ValidationFailure(detail="Network %s has no subnet for the VIP." % network_id)
        if address:
            for subnet in candidates:
                if rules.address_in_cidr(address, subnet["cidr"]):
                    return subnet, address, None
            raise lexc.ValidationFailure(detail="vip_address %s is on no subnet of network %s."
                                                % (address, network_id))
        candidates.sort(key=lambda s: (s["ip_version"] != 4, s["id"]))
        return candidates[0], None, None

    def _subnet(self, context, subnet_id):
        try:
            return self.subnets.get(context, subnet_id)
        except exc.SubnetNotFound:
            raise lexc.ValidationFailure(detail="Subnet %s could not be found." % subnet_id)

    def update_loadbalancer(self, context, lb_id, data):
        with db_api.session_scope() as session:
            lb = self._lock(session, context, lb_id)
            for name in ("name", "description", "admin_state_up"):
                if name in data:
                    setattr(lb, name, data[name])
            _write_tags(session, const.LOADBALANCER, lb_id, data, creating=False)
            lb.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.loadbalancer(lb, Tree(session, [lb_id]))
        self.provisioner.changed(lb_id)
        return view

    def delete_loadbalancer(self, context, lb_id, cascade):
        with db_api.session_scope() as session:
            lb = self._lock(session, context, lb_id)
            tree = Tree(session, [lb_id])
            if (tree.listeners or tree.pools) and not cascade:
                raise lexc.LoadBalancerHasChildren(id=lb_id)
            for row in [*tree.listeners.values(), *tree.pools.values(), *tree.members.values(),
                        *tree.monitors.values()]:
                row.provisioning_status = const.PENDING_DELETE
            lb.provisioning_status = const.PENDING_DELETE
        self.provisioner.changed(lb_id)

    # --- children ------------------------------------------------------------

    def _lock(self, session, context, lb_id, resource=None, resource_id=None):
        """The load balancer, refused (409) while it is pending."""
        lb = self._get(session, context, models.LoadBalancer, lb_id)
        if lb.provisioning_status in const.PENDING_STATUSES:
            raise lexc.ImmutableObject(resource=resource or "Load Balancer", id=resource_id or lb_id)
        return lb

    def _start_child_change(self, session, context, lb_id, resource, resource_id=None):
        lb = self._lock(session, context, lb_id, resource if resource_id else None, resource_id)
        lb.provisioning_status = const.PENDING_UPDATE
        return lb

    def create_listener(self, context, data):
        with db_api.session_scope() as session:
            lb = self._get(session, context, models.LoadBalancer, data["loadbalancer_id"])
            project = _child_project(context, data, lb)
            self._start_child_change(session, context, lb.id, "Listener")
            self.quotas.check(session, project, const.LISTENER)
            taken = session.scalar(sa.select(models.Listener.id).where(
                models.Listener.loadbalancer_id == lb.id, models.Listener.protocol_port == data["protocol_port"]))
            if taken:
                raise lexc.DuplicateListenerPort(lb_id=lb.id, protocol_port=data["protocol_port"])
            if data.get("default_pool_id"):
                self._check_default_pool(session, context, lb.id, data["default_pool_id"], data["protocol"], None)
            row = models.Listener(
                project_id=project, name=data["name"], description=data["description"],
                admin_state_up=data["admin_state_up"], provisioning_status=const.PENDING_CREATE,
                operating_status=const.OFFLINE, loadbalancer_id=lb.id, protocol=data["protocol"],
                protocol_port=data["protocol_port"], connection_limit=data["connection_limit"],
                default_pool_id=data.get("default_pool_id"))
            session.add(row)
            session.flush()
            _write_tags(session, const.LISTENER, row.id, data, creating=True)
            view = views.listener(row, Tree(session, [lb.id]))
        self.provisioner.changed(lb.id)
        return view

    def _check_default_pool(self, session, context, lb_id, pool_id, protocol, listener_id):
        pool = session.get(models.Pool, pool_id)
        if pool is None or not _visible(context, pool) or pool.loadbalancer_id != lb_id:
            raise lexc.EntityNotFound(name="Pool", id=pool_id)
        rules.check_protocols(protocol, pool.protocol)
        used_by = session.scalar(sa.select(models.Listener.id).where(
            models.Listener.default_pool_id == pool_id, models.Listener.id != (listener_id or "")))
        if used_by:
            raise lexc.OnePoolPerListener(listener_id=used_by, pool_id=pool_id)

    def update_listener(self, context, listener_id, data):
        with db_api.session_scope() as session:
            row = self._get(session, context, models.Listener, listener_id)
            self._start_child_change(session, context, row.loadbalancer_id, "Listener", listener_id)
            if data.get("default_pool_id"):
                self._check_default_pool(session, context, row.loadbalancer_id, data["default_pool_id"],
                                         row.protocol, row.id)
            for name in ("name", "description", "admin_state_up", "connection_limit", "default_pool_id"):
                if name in data:
                    setattr(row, name, data[name])
            _write_tags(session, const.LISTENER, row.id, data, creating=False)
            row.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.listener(row, Tree(session, [row.loadbalancer_id]))
        self.provisioner.changed(row.loadbalancer_id)
        return view

    def create_pool(self, context, data):
        with db_api.session_scope() as session:
            listener = None
            if data.get("listener_id"):
                listener = self._get(session, context, models.Listener, data["listener_id"])
            lb_id = data.get("loadbalancer_id") or (listener.loadbalancer_id if listener else None)
            if lb_id is None:
                raise lexc.ValidationFailure(detail="loadbalancer_id or listener_id must be specified.")
            if listener is not None and listener.loadbalancer_id != lb_id:
                raise lexc.ValidationFailure(detail="Listener %s is not on load balancer %s."
                                                    % (listener.id, lb_id))
            lb = self._get(session, context, models.LoadBalancer, lb_id)
            project = _child_project(context, data, lb)
            self._start_child_change(session, context, lb.id, "Pool")
            self.quotas.check(session, project, const.POOL)
            if listener is not None:
                rules.check_protocols(listener.protocol, data["protocol"])
                if listener.default_pool_id:
                    raise lexc.OnePoolPerListener(listener_id=listener.id, pool_id=listener.default_pool_id)
            persistence = data.get("session_persistence") or {}
            row = models.Pool(
                project_id=project, name=data["name"], description=data["description"],
                admin_state_up=data["admin_state_up"], provisioning_status=const.PENDING_CREATE,
                operating_status=const.OFFLINE, loadbalancer_id=lb.id, protocol=data["protocol"],
                lb_algorithm=data["lb_algorithm"], persistence_type=persistence.get("type"),
                persistence_cookie_name=persistence.get("cookie_name"))
            session.add(row)
            session.flush()
            _write_tags(session, const.POOL, row.id, data, creating=True)
            if listener is not None:
                listener.default_pool_id = row.id
                listener.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.pool(row, Tree(session, [lb.id]))
        self.provisioner.changed(lb.id)
        return view

    def update_pool(self, context, pool_id, data):
        with db_api.session_scope() as session:
            row = self._get(session, context, models.Pool, pool_id)
            self._start_child_change(session, context, row.loadbalancer_id, "Pool", pool_id)
            for name in ("name", "description", "admin_state_up", "lb_algorithm"):
                if name in data:
                    setattr(row, name, data[name])
            if "session_persistence" in data:
                persistence = data["session_persistence"] or {}
                row.persistence_type = persistence.get("type")
                row.persistence_cookie_name = persistence.get("cookie_name")
            _write_tags(session, const.POOL, row.id, data, creating=False)
            row.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.pool(row, Tree(session, [row.loadbalancer_id]))
        self.provisioner.changed(row.loadbalancer_id)
        return view

    def create_member(self, context, pool_id, data):
        with db_api.session_scope() as session:
            pool = self._get(session, context, models.Pool, pool_id)
            project = _child_project(context, data, pool)
            if data.get("subnet_id"):
                subnet = self._subnet(context, data["subnet_id"])
                if not rules.address_in_cidr(data["address"], subnet["cidr"]):
                    raise lexc.ValidationFailure(detail="Member address %s is not in the CIDR %s of subnet %s."
                                                        % (data["address"], subnet["cidr"], subnet["id"]))
            self._start_child_change(session, context, pool.loadbalancer_id, "Member")
            self.quotas.check(session, project, const.MEMBER)
            taken = session.scalar(sa.select(models.Member.id).where(
                models.Member.pool_id == pool_id, models.Member.address == data["address"],
                models.Member.protocol_port == data["protocol_port"]))
            if taken:
                raise lexc.DuplicateMember(address=data["address"], port=data["protocol_port"], pool=pool_id)
            row = models.Member(
                project_id=project, name=data["name"], admin_state_up=data["admin_state_up"],
                provisioning_status=const.PENDING_CREATE, operating_status=const.OFFLINE, pool_id=pool_id,
                loadbalancer_id=pool.loadbalancer_id, subnet_id=data.get("subnet_id"), address=data["address"],
                protocol_port=data["protocol_port"], weight=data["weight"])
            session.add(row)
            session.flush()
            _write_tags(session, const.MEMBER, row.id, data, creating=True)
            view = views.member(row, Tree(session, [pool.loadbalancer_id]))
        self.provisioner.changed(pool.loadbalancer_id)
        return view

    def member_row_check(self, session, context, pool_id, member_id):
        self._get(session, context, models.Pool, pool_id)
        row = self._get(session, context, models.Member, member_id)
        if row.pool_id != pool_id:
            raise lexc.EntityNotFound(name="Member", id=member_id)
        return row

    def show_member(self, context, pool_id, member_id):
        with db_api.reader_scope() as session:
            row = self.member_row_check(session, context, pool_id, member_id)
            return views.member(row, Tree(session, [row.loadbalancer_id]))

    def update_member(self, context, pool_id, member_id, data):
        with db_api.session_scope() as session:
            row = self.member_row_check(session, context, pool_id, member_id)
            self._start_child_change(session, context, row.loadbalancer_id, "Member", member_id)
            for name in ("name", "admin_state_up", "weight"):
                if name in data:
                    setattr(row, name, data[name])
            _write_tags(session, const.MEMBER, row.id, data, creating=False)
            row.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.member(row, Tree(session, [row.loadbalancer_id]))
        self.provisioner.changed(row.loadbalancer_id)
        return view

    def delete_member(self, context, pool_id, member_id):
        with db_api.session_scope() as session:
            row = self.member_row_check(session, context, pool_id, member_id)
            self._start_child_change(session, context, row.loadbalancer_id, "Member", member_id)
            row.provisioning_status = const.PENDING_DELETE
            lb_id = row.loadbalancer_id
        self.provisioner.changed(lb_id)

    def create_healthmonitor(self, context, data):
        rules.check_monitor(data)
        with db_api.session_scope() as session:
            pool = self._get(session, context, models.Pool, data["pool_id"])
            project = _child_project(context, data, pool)
            self._start_child_change(session, context, pool.loadbalancer_id, "Health Monitor")
            self.quotas.check(session, project, const.HEALTHMONITOR)
            taken = session.scalar(sa.select(models.HealthMonitor.id).where(
                models.HealthMonitor.pool_id == pool.id))
            if taken:
                raise lexc.OneHealthMonitorPerPool(pool_id=pool.id, hm_id=taken)
            http = data["type"] in const.HTTP_MONITORS
            row = models.HealthMonitor(
                project_id=project, name=data["name"], admin_state_up=data["admin_state_up"],
                provisioning_status=const.PENDING_CREATE, operating_status=const.OFFLINE, pool_id=pool.id,
                loadbalancer_id=pool.loadbalancer_id, type=data["type"], delay=data["delay"],
                timeout=data["timeout"], max_retries=data["max_retries"], max_retries_down=data["max_retries_down"],
                http_method=(data.get("http_method") or "GET") if http else None,
                url_path=(data.get("url_path") or "/") if http else None,
                expected_codes=(data.get("expected_codes") or "200") if http else None)
            session.add(row)
            session.flush()
            _write_tags(session, const.HEALTHMONITOR, row.id, data, creating=True)
            view = views.healthmonitor(row, Tree(session, [row.loadbalancer_id]))
        self.provisioner.changed(pool.loadbalancer_id)
        return view

    def update_healthmonitor(self, context, hm_id, data):
        with db_api.session_scope() as session:
            row = self._get(session, context, models.HealthMonitor, hm_id)
            merged = {name: data.get(name, getattr(row, name)) for name in ("delay", "timeout", "type")}
            rules.check_monitor(merged)
            self._start_child_change(session, context, row.loadbalancer_id, "Health Monitor", hm_id)
            names = ["name", "admin_state_up", "delay", "timeout", "max_retries", "max_retries_down"]
            if row.type in const.HTTP_MONITORS:
                names += ["http_method", "url_path", "expected_codes"]
            for name in names:
                if name in data:
                    setattr(row, name, data[name])
            _write_tags(session, const.HEALTHMONITOR, row.id, data, creating=False)
            row.provisioning_status = const.PENDING_UPDATE
            session.flush()
            view = views.healthmonitor(row, Tree(session, [row.loadbalancer_id]))
        self.provisioner.changed(row.loadbalancer_id)
        return view

    def delete_child(self, context, model, item_id):
        with db_api.session_scope() as session:
            row = self._get(session, context, model, item_id)
            self._start_child_change(session, context, row.loadbalancer_id, _NAMES[model], item_id)
            row.provisioning_status = const.PENDING_DELETE
            lb_id = row.loadbalancer_id
            if model is models.Pool:
                tree = Tree(session, [lb_id])
                for member_id in tree.members_of_pool(row.id):
                    tree.members[member_id].provisioning_status = const.PENDING_DELETE
                monitor_id = tree.monitor_of_pool(row.id)
                if monitor_id:
                    tree.monitors[monitor_id].provisioning_status = const.PENDING_DELETE
        self.provisioner.changed(lb_id)

    # --- the driver's side ---------------------------------------------------

    def finish(self, lb_id, deployed=True):
        """The driver applied the tree: settle the pending statuses (ERROR when it failed)."""
        with db_api.reader_scope() as session:
            lb = session.get(models.LoadBalancer, lb_id)
            if lb is None:
                return
            going, vip_port = lb.provisioning_status == const.PENDING_DELETE and deployed, lb.vip_port_id
        if going and vip_port is not None:
            # The port first: once the load balancer is gone, so is its VIP.
            self._delete_port(None, vip_port)
        with db_api.session_scope() as session:
            tree = Tree(session, [lb_id])
            lb = tree.loadbalancers.get(lb_id)
            if lb is None:
                return
            if going:
                _forget_tags(session, tree.ids())
                session.execute(sa.delete(models.Listener).where(models.Listener.loadbalancer_id == lb_id))
                session.delete(lb)
                return
            for row in [*tree.monitors.values(), *tree.members.values(), *tree.listeners.values(),
                        *tree.pools.values()]:
                if row.provisioning_status == const.PENDING_DELETE and deployed:
                    _forget_tags(session, [row.id])
                    session.delete(row)
                    session.flush()
                elif row.provisioning_status in const.PENDING_STATUSES:
                    row.provisioning_status = const.ACTIVE if deployed else const.ERROR
            lb.provisioning_status = const.ACTIVE if deployed else const.ERROR

    @staticmethod
    def operating_defaults(lb_id):
        """Operating statuses of a tree no driver observes: ONLINE, members NO_MONITOR."""
        with db_api.reader_scope() as session:
            tree = Tree(session, [lb_id])
            if lb_id not in tree.loadbalancers:
                return {}
            return {"loadbalancer": {lb_id: const.ONLINE},
                    "listener": {i: const.ONLINE for i in tree.listeners},
                    "pool": {i: const.ONLINE for i in tree.pools},
                    "healthmonitor": {i: const.ONLINE for i in tree.monitors},
                    "member": {i: const.NO_MONITOR for i in tree.members}}

    def set_operating_statuses(self, lb_id, statuses_by_kind):
        """{"loadbalancer"|"listener"|"pool"|"member": {id: status}} as the driver observed them."""
        tables = {"loadbalancer": models.LoadBalancer, "listener": models.Listener, "pool": models.Pool,
                  "member": models.Member, "healthmonitor": models.HealthMonitor}
        with db_api.session_scope() as session:
            for kind, values in statuses_by_kind.items():
                model = tables.get(kind)
                if model is None:
                    continue
                for item_id, status in values.items():
                    column = model.id if model is models.LoadBalancer else model.loadbalancer_id
                    session.execute(sa.update(model).where(model.id == item_id, column == lb_id)
                                    .values(operating_status=status)
                                    .execution_options(synchronize_session=False))

    def set_stats(self, lb_id, stats, listener_stats):
        """The agent's report: the load balancer's counters (None: not reported) and
        {listener id: counters} of its listeners; others' listener ids are ignored."""
        with db_api.session_scope() as session:
            if session.get(models.LoadBalancer, lb_id) is None:
                return
            if stats is not None:
                row = session.get(models.LoadBalancerStats, lb_id) or models.LoadBalancerStats(loadbalancer_id=lb_id)
                session.add(row)
                _write_counters(row, stats)
            if not listener_stats:
                return
            own = set(session.scalars(sa.select(models.Listener.id).where(
                models.Listener.loadbalancer_id == lb_id, models.Listener.id.in_(list(listener_stats)))))
            for listener_id in sorted(own):
                row = session.get(models.ListenerStats, listener_id) or models.ListenerStats(listener_id=listener_id)
                session.add(row)
                _write_counters(row, listener_stats[listener_id])

    def _delete_port(self, context, port_id):
        from netweave.core.context import get_admin_context

        try:
            self.ports.delete(get_admin_context(), port_id)
        except exc.PortNotFound:
            pass

