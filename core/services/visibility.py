"""Which rows a non-admin project may see, as SQL conditions (one query, no N+1)."""
import sqlalchemy as sa

from netweave.core.db.models import network as net_models

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"


def rbac_targets(context):
    return ("*", context.project_id)


def networks_visible_to(context):
    """Owned networks, plus those shared or made external to the project through RBAC."""
    rbac = net_models.NetworkRBAC
    shared_ids = sa.select(rbac.object_id).where(rbac.target_tenant.in_(rbac_targets(context)),
                                                 rbac.action.in_((SHARED, EXTERNAL)))
    return sa.or_(net_models.Network.project_id == context.project_id,
                  net_models.Network.id.in_(shared_ids))


def networks_shared_with(context):
    """Network ids the project may put ports and subnets on without owning them."""
    rbac = net_models.NetworkRBAC
    return sa.select(rbac.object_id).where(rbac.target_tenant.in_(rbac_targets(context)),
                                           rbac.action == SHARED)


def owned_network_ids(context):
    return sa.select(net_models.Network.id).where(net_models.Network.project_id == context.project_id)
