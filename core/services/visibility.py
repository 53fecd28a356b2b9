"""Which rows a non-admin project may see, as SQL conditions (one query, no N+1)."""
import sqlalchemy as sa

from netweave.core.db.models import network as net_models

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"


def rbac_targets(context):
    return ("*", context.project_id)


def granted_ids(rbac_model, project_id, actions=(SHARED,)):
    """SELECT of the ids of the objects whose policies (table ``rbac_model``) grant one of
    ``actions`` to ``project_id`` or to every project."""
    return sa.select(rbac_model.object_id).where(rbac_model.target_tenant.in_(("*", project_id)),
                                                 rbac_model.action.in_(actions))


def networks_visible_to(context):
    """Owned networks, plus those shared or made external to the project through RBAC."""
    return sa.or_(net_models.Network.project_id == context.project_id,
                  net_models.Network.id.in_(granted_ids(net_models.NetworkRBAC, context.project_id,
                                                        (SHARED, EXTERNAL))))


def networks_shared_with(context):
    """Network ids the project may put ports and subnets on without owning them."""
    return granted_ids(net_models.NetworkRBAC, context.project_id)


def owned_network_ids(context):
    return sa.select(net_models.Network.id).where(net_models.Network.project_id == context.project_id)
