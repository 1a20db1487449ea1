"""Where a run's inputs come from: each driver owns the line set-points and the crew's actions of a run.

``ScheduleDriver``: the park on its own (the config's schedules after the power programs, the crew's
routine, the cells' controllers). ``RecordedDriver``: what operators and the plant did (historian or
results inputs: recorded currents and actions, the controllers off).
"""
from twin.drivers.recorded import RecordedDriver
from twin.drivers.schedule import ScheduleDriver

__all__ = ["RecordedDriver", "ScheduleDriver"]
