"""Request context: who is calling and with which rights."""
from oslo_context import context as oslo_context


class Context(oslo_context.RequestContext):
    """oslo.context's request context plus the admin flag Neutron policies rely on."""

    def __init__(self, project_id=None, user_id=None, is_admin=None, roles=None, **kwargs):
        roles = list(roles or [])
        if is_admin is None:
            is_admin = "admin" in [r.lower() for r in roles]
        super().__init__(project_id=project_id, user_id=user_id, is_admin=is_admin, roles=roles, **kwargs)

    @property
    def tenant_id(self):
        return self.project_id

    def to_policy_values(self):
        values = super().to_policy_values()
        values["tenant_id"] = self.project_id
        values["is_admin"] = self.is_admin
        return values

    def elevated(self):
        copy = Context(project_id=self.project_id, user_id=self.user_id, is_admin=True,
                       roles=list(set(self.roles) | {"admin"}), request_id=self.request_id)
        return copy


def get_admin_context():
    return Context(project_id=None, is_admin=True, roles=["admin"])
