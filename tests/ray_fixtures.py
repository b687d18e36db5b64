"""Ray fixtures (imported by tests/conftest.py): bounded clusters on loopback, stopped by the fixture.

Tests that use them are marked ``ray`` (run them alone with ``pytest -m ray``); they are part of the default suite.
"""

import os

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")        # a loopback test cluster needs no token
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

OBJECT_STORE = 80 * 1024 * 1024


@pytest.fixture()
def ray_local():
    """A local Ray instance of 2 CPUs on loopback, shut down after the test."""
    import ray

    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture()
def ray_cluster():
    """A multi-node cluster on loopback: a head without CPUs and two worker nodes of one CPU each."""
    import ray
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False, "object_store_memory": OBJECT_STORE})
    workers = [cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
               for _ in range(2)]
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    cluster.wait_for_nodes(timeout=120)
    try:
        yield cluster, workers
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def ray_serve():
    """A local Ray instance of 2 CPUs with Ray Serve (no HTTP proxy) for one test module, then shut down."""
    import ray
    from ray import serve

    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    serve.start(proxy_location="Disabled")
    yield serve
    serve.shutdown()
    ray.shutdown()
