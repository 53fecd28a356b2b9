"""The garbage collector of netweave's long-running processes (API workers, the RPC
server, the agents), set once they have started.

Start-up objects (modules, plugins, configuration, the app) live as long as the
process, yet every full collection walked them all, in the middle of whichever
request or pass happened to trigger it: they are frozen out of collections.

The youngest generation is collected once YOUNG_GENERATION_THRESHOLD more container
objects were made than freed (Python's default: 700). A request or an agent pass
frees what it made by reference counting, but holds it while it works: a 1,000-port
list holds about 10,000 at once and set off 21 collections of them, 2 ms of its
15. At this threshold a unit of work's own objects are gone before a collection
would look at them.
"""
import gc

YOUNG_GENERATION_THRESHOLD = 20000


def prepare_for_serving():
    """Freeze what start-up made and collect young objects less often; call once the
    process has built what it serves with, before serving."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
