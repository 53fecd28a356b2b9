"""core/garbage_collection.py: start-up objects frozen out of full passes, the youngest
generation collected past YOUNG_GENERATION_THRESHOLD."""
import gc

from netweave.core import garbage_collection


def test_a_prepared_process_freezes_start_up_and_collects_young_objects_less_often():
    thresholds = gc.get_threshold()
    try:
        gc.set_threshold(700, 7, 9)
        garbage_collection.prepare_for_serving()
        assert gc.get_threshold() == (garbage_collection.YOUNG_GENERATION_THRESHOLD, 7, 9)
        assert gc.get_freeze_count() > 0
        # A unit of work's own objects, freed by reference counting, never reach a collection.
        before = gc.get_stats()[0]["collections"]
        for _ in range(20):
            _items = [{"id": str(n), "fixed_ips": [{"ip_address": "10.0.0.%d" % (n % 250)}]} for n in range(1000)]
        assert gc.get_stats()[0]["collections"] == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)

