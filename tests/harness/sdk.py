"""openstacksdk connections to a noauth netweave server, one per project and role set."""
import uuid

import openstack
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session


def connect(url, project=None, roles=None):
    """A Connection whose requests carry the noauth identity headers (admin without roles)."""
    headers = {}
    if project is not None:
        headers["X-Project-Id"] = project
    if roles is not None:
        headers["X-Roles"] = roles
    sess = ks_session.Session(auth=noauth.NoAuth(), additional_headers=headers)
    return openstack.connection.Connection(session=sess, network_endpoint_override=url + "/")


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def fault_of(error):
    """The NeutronError body of an SDK exception."""
    return error.response.json()["NeutronError"]
