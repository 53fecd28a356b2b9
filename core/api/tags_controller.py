"""HTTP side of tags: the resource must be visible (and updatable to change tags)."""
class TagController:
    def __init__(self, controllers, tag_service, touch_factory):
        self.controllers = controllers  # collection -> ResourceController
        self.service = tag_service
        self.touch_factory = touch_factory  # (collection, id) -> callable(session) bumping the revision

    def handlers(self, resource, tag=None):
        """({method: handler}, the methods whose handler takes the body) of a resource's
        tags (``tag`` None) or of one tag."""
        controller = self.controllers[resource.collection]
        svc = self.service
        kind = resource.member
        touch = lambda item_id: self.touch_factory(resource.collection, item_id)  # noqa: E731

        def visible(context, item_id):
            return controller._fetch_visible(context, item_id)

        def updatable(context, item_id):
            # The update rule's target, as for an update: subnets' and ports' rules
            # ask for the owner of their network.
            target = dict(visible(context, item_id))
            controller._add_network_owner(context, target)
            controller.policy.enforce(context, "update_%s" % resource.name, target)

        if tag is None:
            def get_all(request, context, item_id):
                visible(context, item_id)
                return {"tags": svc.get_all(item_id)}

            def put_all(request, context, item_id, body):
                updatable(context, item_id)
                tags = body.get("tags") if isinstance(body, dict) else None
                return {"tags": svc.replace_all(kind, item_id, tags, touch(item_id))}

            def delete_all(request, context, item_id):
                updatable(context, item_id)
                svc.remove_all(item_id, touch(item_id))

            return {"GET": get_all, "PUT": put_all, "DELETE": delete_all}, {"PUT"}

        def check_one(request, context, item_id):
            visible(context, item_id)
            if not svc.has(item_id, tag):
                from netweave.core import exceptions as exc
                raise exc.TagNotFound(tag=tag)

        def put_one(request, context, item_id):
            updatable(context, item_id)
            svc.add(kind, item_id, tag, touch(item_id))
            return 201, None

        def delete_one(request, context, item_id):
            updatable(context, item_id)
            svc.remove(item_id, tag, touch(item_id))

        return {"GET": check_one, "PUT": put_one, "DELETE": delete_one}, set()
