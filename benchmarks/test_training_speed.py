"""A training session of the reference line (PL1, 360 cells) with its page open: plant time per wall second.

The session runs unpaced (as fast as it can: what x3600 would need) while a client reads the page's event stream
from the server on loopback, so the figure includes publishing the view after every record and the server's
throttled updates. The goal (issue 25): at least x600 plant time on one core with the page open.
"""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

from twin.training import TrainingSession, load_scenario
from twin.training.server import serve

PLANT_H = 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_training_360_cells_with_the_page_open(benchmark, tmp_path):
    runs = iter(range(100))

    def setup():
        session = TrainingSession(load_scenario("blocked-feeder"), tmp_path / f"s{next(runs)}.nc")
        port = _free_port()
        server = serve(session, port=port)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        received = []

        def read() -> None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stream?cell=16", timeout=60) as stream:
                for line in stream:
                    received.append(len(line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        return (session, server, reader, received), {}

    def run(session, server, reader, received):
        session.run(hours=PLANT_H)
        reader.join(10)
        server.should_exit = True
        benchmark.extra_info["stream_bytes"] = sum(received)

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["cells"] = 360
    benchmark.extra_info["plant_s_per_wall_s"] = PLANT_H * 3600.0 / benchmark.stats.stats.min
