"""The RBAC service's registry of object types (the contract plugins register against)."""
import pytest

from netweave.core.db.models import network as net_models
from netweave.core.services import rbac


def test_network_is_a_registered_type_with_its_actions():
    service = rbac.RbacService(quotas=None)
    service.register(rbac.network_object_type())
    network = service.object_types["network"]
    assert network.model is net_models.NetworkRBAC
    assert network.actions == ("access_as_shared", "access_as_external")
    assert network.plural == "networks"


def test_a_type_registers_once():
    service = rbac.RbacService(quotas=None)
    service.register(rbac.network_object_type())
    with pytest.raises(ValueError):
        service.register(rbac.network_object_type())


def test_unknown_object_type_is_a_400_naming_the_known_ones():
    service = rbac.RbacService(quotas=None)
    service.register(rbac.network_object_type())
    with pytest.raises(rbac.exc.InvalidInput) as raised:
        service._object_type("router")
    assert "'router' is not in ['network']" in str(raised.value)
