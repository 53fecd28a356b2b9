"""Security groups shared with other projects through rbac-policies (object_type security_group).

Neutron's security-groups-rbac: the only action is access_as_shared; a target
project sees the group (and its rules) and may put it on its ports, but only the
owner changes it. A policy cannot go while ports of a project it lets in use the
group (RbacPolicyInUse).
"""
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db.models import port as port_models
from netweave.core.services import rbac, visibility
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import models

OBJECT_TYPE = "security_group"
SHARED = visibility.SHARED

RBAC = models.SecurityGroupRBAC


def object_type():
    """The rbac-policies registration of security groups (see core/services/rbac.py)."""
    return rbac.RbacObjectType(
        name=OBJECT_TYPE, model=RBAC, actions=(SHARED,),
        load=lambda session, object_id: session.get(models.SecurityGroup, object_id),
        not_found=lambda object_id: sg_exc.SecurityGroupNotFound(id=object_id),
        check_removable=_check_removable, plural="security groups")


def shared_with(project_id):
    """SELECT of the ids of groups shared with ``project_id`` (or with every project)."""
    return visibility.granted_ids(RBAC, project_id)


def _check_removable(session, group, entry):
    """Refuse when ports of a project that only this policy lets in use the group."""
    lost = rbac.access_lost(session, RBAC, group, entry)
    if lost is None:
        return
    bindings = models.SecurityGroupPortBinding
    ports = port_models.Port
    stmt = (sa.select(ports.project_id).join(bindings, bindings.port_id == ports.id)
            .where(bindings.security_group_id == group.id, lost.of(ports.project_id)))
    if session.scalar(stmt.limit(1)) is not None:
        raise exc.RbacPolicyInUse(object_id=group.id,
                                  details="Security group %s is in use by ports of projects that depend on "
                                          "this policy for access." % group.id)
