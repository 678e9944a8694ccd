"""TEACh episodes: the file formats, task definitions and goal-condition checker, and the metrics.

>>> from episodes import load_game, goal_conditions, state_objects
>>> game = load_game("DATA/games/valid_seen/abc.game.json")
>>> status = goal_conditions(game.task_id, game.task_params, state_objects(game.final_state))
>>> status.success, status.goal_conditions_satisfied, status.goal_conditions_total

Layout: ``formats`` (Game/EdhInstance/TfdInstance, read/build/write) over ``schema`` (field validation) and
``actions`` (TEACh's action table); ``dataset`` (the split directories); ``tasks`` (definitions and composition);
``checker`` (goal conditions); ``state_diff`` (EDH state changes); ``metrics`` (SR, GC, path-length weighted);
``stats`` (the CLI).

Sources: ``alexa/teach`` at 903191e (MIT): ``src/teach/dataset/`` (formats, ``task_THOR.py``), ``src/teach/utils.py``,
``src/teach/eval/compute_metrics.py`` and the data files of ``src/teach/meta_data_files/`` (shipped in
``episodes/data/teach``).
"""

from __future__ import annotations

from .actions import ActionTable, TeachAction, driver_action_record, load_actions
from .checker import (SubgoalStatus, TaskStatus, check_task, edh_check_task, goal_conditions, prepare_objects,
                      state_objects)
from .dataset import (DIVIDED_SPLITS, KINDS, SPLITS, LoadReport, SkippedFile, images_dir, load_split,
                      write_edh_instance, write_game, write_tfd_instance)
from .formats import (EdhInstance, Game, TfdInstance, load_edh_instance, load_game, load_tfd_instance,
                      make_edh_instance, make_game, make_tfd_instance)
from .metrics import (MAX_API_FAILS, MAX_TRAJ_STEPS, aggregate_by_split, aggregate_metrics, evaluate_traj,
                      metrics_file, new_traj_metrics, score_edh, score_tfd)
from .schema import EpisodeFormatError
from .state_diff import diff_between, state_changes_from_initial
from .tasks import TASK_FAMILIES, Task, TaskDefinitionError, load_task_library, make_task, task_record

__all__ = [
    "ActionTable", "TeachAction", "driver_action_record", "load_actions",
    "SubgoalStatus", "TaskStatus", "check_task", "edh_check_task", "goal_conditions", "prepare_objects",
    "state_objects",
    "DIVIDED_SPLITS", "KINDS", "SPLITS", "LoadReport", "SkippedFile", "images_dir", "load_split", "write_edh_instance",
    "write_game", "write_tfd_instance",
    "EdhInstance", "Game", "TfdInstance", "load_edh_instance", "load_game", "load_tfd_instance", "make_edh_instance",
    "make_game", "make_tfd_instance",
    "MAX_API_FAILS", "MAX_TRAJ_STEPS", "aggregate_by_split", "aggregate_metrics", "evaluate_traj", "metrics_file",
    "new_traj_metrics", "score_edh", "score_tfd",
    "EpisodeFormatError",
    "diff_between", "state_changes_from_initial",
    "TASK_FAMILIES", "Task", "TaskDefinitionError", "load_task_library", "make_task", "task_record",
]
