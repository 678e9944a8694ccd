"""Independent jobs (episodes, games, scenes) run serially, over local worker processes or on a Ray cluster, with
fault isolation; and atomic file writes for the generators.

    from parallel import Job, run_jobs
    for outcome in run_jobs(jobs, setup, work, config, workers=2, timeout=600):
        ...                                       # one Outcome per job, in completion order

This package imports nothing of ours, so every room of the house may use it (``envs/`` excepted, which needs it not).
"""

from .atomic import atomic_directory, atomic_file, remove_partials, write_text_atomic
from .jobs import Job, JobTimeout, Outcome, PoolStats, WorkerInfo, WorkerSetupError, run_jobs
from .ray_backend import RayUnavailable, valid_ray_address

__all__ = ["Job", "JobTimeout", "Outcome", "PoolStats", "RayUnavailable", "WorkerInfo", "WorkerSetupError",
           "atomic_directory", "atomic_file", "remove_partials", "run_jobs", "valid_ray_address", "write_text_atomic"]
