"""The Dask client of the parallel commands (calibration batches, sweep points): a LocalCluster of worker
processes by default, or an existing ``dask.distributed`` scheduler named by its address. No home-made scheduler."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[tuple[Any, bool]]:
    """(client, local): a client of the scheduler at ``scheduler`` or of a LocalCluster of ``n_workers`` single-
    threaded worker processes (``local`` True), closed (with the cluster) on leaving."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            # not the process's default client: a failed one would stay behind for dask and xarray (their locks
            # then try to reach it)
            client, cluster = Client(scheduler, timeout=10, set_as_default=False), None
        except (OSError, ValueError, TypeError) as exc:     # unreachable, refused, not an address
            raise OSError(f"scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
    else:
        # no dashboard port of its own (":0": any free one), so several clusters can run side by side
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster, set_as_default=False)
    try:
        yield client, cluster is not None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def on_a_worker() -> bool:
    """True inside a task that a Dask worker runs (its process shares the machine's cores with other workers)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True
