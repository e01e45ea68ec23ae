"""The model cache: bounded, each model loaded once, what it evicts is closed once nobody runs it."""
import threading

from zoo.cache import Loaded, ModelCache
from zoo.registry import get_spec

IDS = ["face/blazeface-short", "face/blazeface-full", "face/facemesh"]


class Runner:
    def __init__(self):
        self.closed = 0

    def __call__(self, x):
        assert not self.closed, "ran after close"
        return x

    def close(self):
        self.closed += 1


def _cache(n):
    loads = []

    def load(spec, progress=None):
        loads.append(spec.id)
        return Loaded(spec, Runner(), 0.0)

    return ModelCache(n, load_fn=load), loads


def test_evicted_models_are_closed_and_loaded_again_when_needed():
    cache, loads = _cache(2)
    a = cache.get(get_spec(IDS[0]))
    cache.get(get_spec(IDS[1]))
    assert cache.get(get_spec(IDS[0])) is a and loads == IDS[:2]  # a hit, not a second load
    cache.get(get_spec(IDS[2]))  # IDS[1] was used least recently
    assert not cache.is_loaded(IDS[1]) and cache.is_loaded(IDS[0]) and cache.closed == 1
    cache.get(get_spec(IDS[1]))
    assert loads == [IDS[0], IDS[1], IDS[2], IDS[1]] and len(cache) == 2


def test_a_model_in_use_is_closed_only_when_its_lease_ends():
    cache, _ = _cache(1)
    with cache.lease(get_spec(IDS[0])) as held:
        cache.get(get_spec(IDS[1]))  # evicts IDS[0] while it runs
        assert held.runner.closed == 0 and held.runner("x") == "x"
    assert held.runner.closed == 1 and cache.closed == 1


def test_the_size_is_read_when_used(monkeypatch):
    cache, _ = _cache(None)
    monkeypatch.setenv("ZOO_MAX_MODELS", "3")
    for mid in IDS:
        cache.get(get_spec(mid))
    assert len(cache) == 3
    monkeypatch.setenv("ZOO_MAX_MODELS", "1")
    cache.get(get_spec(IDS[2]))  # a hit, and the cache shrinks to its new size
    assert len(cache) == 1 and cache.closed == 2 and cache.is_loaded(IDS[2])


def test_one_load_per_model_under_concurrency():
    cache, loads = _cache(4)
    spec = get_spec(IDS[0])
    threads = [threading.Thread(target=cache.get, args=(spec,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [IDS[0]]
