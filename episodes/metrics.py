"""TEACh's evaluation metrics: success, goal-condition success and their path-length-weighted versions.

Formulas of ``alexa/teach`` ``src/teach/eval/compute_metrics.py`` (``create_new_traj_metrics``, ``evaluate_traj``,
``aggregate_metrics``, ``load_edh_traj_metrics``, ``load_tfd_traj_metrics``), as in the TEACh paper (Padmakumar et
al., AAAI 2022, section 5), with the same per-trajectory field names and aggregate structure so TEACh's tooling reads
our results:

- goal conditions are counted against those left unsatisfied at the start: ``total = init_total - init_satisfied``
  (satisfied capped at total), ``GC = 1 - (final_total - final_satisfied) / total``;
- path-length weighting by the expert's future length ``g = len(driver_actions_future)`` and the trajectory length
  ``L``: ``spl = metric * min(1, g / max(L, g))``, weighted ``spl * g``; split rates divide the weighted sums by the
  sum of ``g``;
- EDH success checks a task built from the instance's ``state_changes``; TfD success checks the game's task.

Division by zero, decided here where TEACh raises or would report nonsense (each documented where it applies):
``total = 0`` gives GC 1 (TEACh's own rule); ``L = g = 0`` gives a length ratio of 1 (TEACh divides by zero; the
weighted values are 0 anyway since ``g = 0``); an empty split gives every rate 0.0 with ``num_evals = 0``; a split
whose goal-condition totals sum to 0 reports the mean per-episode ``goal_condition_success`` (TEACh divides by zero).
"""

from __future__ import annotations

import math
from typing import Iterable

from .checker import check_task, edh_check_task, prepare_objects
from .formats import EdhInstance, Game, TfdInstance
from .schema import EpisodeFormatError
from .tasks import make_task

MAX_TRAJ_STEPS = 1000
MAX_API_FAILS = 30
"""TEACh's inference limits (``cli/inference.py`` defaults), also the thresholds of the aggregate fail counts."""

TRAJ_FIELDS = (
    "instance_id", "game_id", "completed_goal_conditions", "total_goal_conditions", "goal_condition_success",
    "success_spl", "path_len_weighted_success_spl", "goal_condition_spl", "path_len_weighted_goal_condition_spl",
    "gt_path_len", "reward", "success", "traj_len", "predicted_stop", "num_api_fails", "error", "init_success",
    "pred_actions",
)


def new_traj_metrics(instance_id: str, game_id: str) -> dict:
    """TEACh ``create_new_traj_metrics``: the zero record an instance keeps if it never gets scored."""
    return {
        "instance_id": instance_id, "game_id": game_id,
        "completed_goal_conditions": 0, "total_goal_conditions": 0, "goal_condition_success": 0.0,
        "success_spl": 0.0, "path_len_weighted_success_spl": 0.0, "goal_condition_spl": 0.0,
        "path_len_weighted_goal_condition_spl": 0.0, "gt_path_len": 0, "reward": 0.0, "success": 0, "traj_len": 0,
        "predicted_stop": 0, "num_api_fails": 0, "error": 0, "init_success": 0, "pred_actions": [],
    }


def evaluate_traj(success: bool, gt_path_len: int, traj_len: int, init_gc_total: int, init_gc_satisfied: int,
                  final_gc_total: int, final_gc_satisfied: int) -> dict:
    """TEACh ``evaluate_traj`` (``eval/compute_metrics.py``), given the expert's future length instead of the
    instance. ``completed_goal_conditions`` and ``goal_condition_success`` may be negative when the agent undoes
    conditions that held at the start, as in TEACh."""
    init_gc_satisfied = min(init_gc_total, init_gc_satisfied)
    final_gc_satisfied = min(final_gc_total, final_gc_satisfied)
    total = init_gc_total - init_gc_satisfied
    unsatisfied = final_gc_total - final_gc_satisfied
    goal_condition_success = 1.0 - unsatisfied / total if total != 0 else 1.0
    longest = max(traj_len, gt_path_len)
    length_ratio = min(1.0, gt_path_len / float(longest)) if longest > 0 else 1.0
    success_spl = (1.0 if success else 0.0) * length_ratio
    goal_condition_spl = goal_condition_success * length_ratio
    return {
        "completed_goal_conditions": int(total) - int(unsatisfied),
        "total_goal_conditions": int(total),
        "goal_condition_success": float(goal_condition_success),
        "success_spl": float(success_spl),
        "path_len_weighted_success_spl": float(success_spl * gt_path_len),
        "goal_condition_spl": float(goal_condition_spl),
        "path_len_weighted_goal_condition_spl": float(goal_condition_spl * gt_path_len),
        "gt_path_len": int(gt_path_len),
        "success": int(bool(success)),
        "traj_len": int(traj_len),
    }


def _expert_length(instance: EdhInstance | TfdInstance) -> int:
    future = instance.driver_actions_future
    if future is None:
        raise EpisodeFormatError(instance.path, "driver_actions_future",
                                 "missing; needed as the expert path length (stripped test instances cannot be scored)")
    return len(future)


def _run_fields(record: dict, traj_len: int, predicted_stop: bool, num_api_fails: int, error: bool,
                init_success: bool, pred_actions: list | None) -> dict:
    record.update(predicted_stop=int(bool(predicted_stop)), num_api_fails=int(num_api_fails), error=int(bool(error)),
                  init_success=int(bool(init_success)))
    record["pred_actions"] = list(pred_actions) if pred_actions is not None else []
    return record


def score_edh(instance: EdhInstance, final_objects: list[dict], traj_len: int, predicted_stop: bool = False,
              num_api_fails: int = 0, error: bool = False, init_success: bool = True,
              pred_actions: list | None = None) -> dict:
    """Score one EDH run as TEACh's ``load_edh_traj_metrics``: the check task from ``state_changes`` on the final
    objects (raw metadata; custom properties must already be merged), initial counts from the instance's cached
    ``expected_init_goal_conditions_*``."""
    if instance.state_changes is None:
        raise EpisodeFormatError(instance.path, "state_changes", "missing; needed to build the EDH check task")
    initial = instance.expected_init_goal_conditions
    if initial is None:
        raise EpisodeFormatError(instance.path, "expected_init_goal_conditions_total",
                                 "missing; needed as the goal conditions at the start")
    final = check_task(edh_check_task(instance.state_changes), prepare_objects(final_objects))
    record = new_traj_metrics(instance.instance_id, instance.game_id)
    record.update(evaluate_traj(final.success, _expert_length(instance), traj_len, initial[0], initial[1],
                                final.goal_conditions_total, final.goal_conditions_satisfied))
    return _run_fields(record, traj_len, predicted_stop, num_api_fails, error, init_success, pred_actions)


def score_tfd(game: Game, instance: TfdInstance, final_objects: list[dict], traj_len: int,
              initial_objects: list[dict] | None = None, predicted_stop: bool = False, num_api_fails: int = 0,
              error: bool = False, init_success: bool = True, pred_actions: list | None = None) -> dict:
    """Score one TfD run as TEACh's ``load_tfd_traj_metrics``: the game's task (id and params) checked on the initial
    objects (default: the game's ``initial_state``) and on the final objects."""
    task = make_task(game.task_id, game.task_params)
    if initial_objects is None:
        start_objects = prepare_objects(game.initial_state.get("objects", []),
                                        game.initial_state.get("custom_object_metadata"))
    else:
        start_objects = prepare_objects(initial_objects)
    start = check_task(task, start_objects)
    final = check_task(task, prepare_objects(final_objects))
    record = new_traj_metrics(instance.instance_id, instance.game_id)
    record.update(evaluate_traj(final.success, _expert_length(instance), traj_len, start.goal_conditions_total,
                                start.goal_conditions_satisfied, final.goal_conditions_total,
                                final.goal_conditions_satisfied))
    return _run_fields(record, traj_len, predicted_stop, num_api_fails, error, init_success, pred_actions)


def _by_instance(records: Iterable[dict] | dict) -> dict[str, dict]:
    """TEACh keys trajectory stats by instance id; a repeated id (a resumed or merged run) keeps the last record."""
    if isinstance(records, dict):
        return dict(records)
    return {record["instance_id"]: record for record in records}


def aggregate_metrics(records: Iterable[dict] | dict, max_api_fails: int = MAX_API_FAILS,
                      max_traj_steps: int = MAX_TRAJ_STEPS) -> dict:
    """TEACh ``aggregate_metrics`` over per-trajectory records (a list, or a dict keyed by instance id).

    Success rate is over all entries (zero-template ones included); goal-condition success is micro-averaged
    (sum completed / sum total); the path-length-weighted rates divide the weighted sums by the sum of
    ``gt_path_len`` (0 when that is 0, as TEACh). Empty split: every rate 0.0. Sum of totals 0: the mean
    per-episode ``goal_condition_success`` (so vacuous episodes count 1, unscored ones 0).
    """
    stats = list(_by_instance(records).values())
    num_evals = len(stats)
    num_successes = sum(1 for r in stats if r["success"] == 1)
    completed = sum(r["completed_goal_conditions"] for r in stats)
    total = sum(r["total_goal_conditions"] for r in stats)
    weight = sum(r["gt_path_len"] for r in stats)
    if num_evals == 0:
        success_rate = goal_condition_rate = 0.0
    else:
        success_rate = num_successes / float(num_evals)
        goal_condition_rate = (completed / float(total) if total != 0
                               else sum(r["goal_condition_success"] for r in stats) / float(num_evals))
    if weight > 0 and not math.isclose(weight, 0.0):
        plw_success = sum(r["path_len_weighted_success_spl"] for r in stats) / float(weight)
        plw_goal_condition = sum(r["path_len_weighted_goal_condition_spl"] for r in stats) / float(weight)
    else:
        plw_success = plw_goal_condition = 0.0
    return {
        "success": {"num_successes": num_successes, "num_evals": num_evals, "success_rate": success_rate},
        "goal_condition_success": {"completed_goal_conditions": completed, "total_goal_conditions": total,
                                   "goal_condition_success_rate": goal_condition_rate},
        "path_length_weighted_success_rate": plw_success,
        "path_length_weighted_goal_condition_success_rate": plw_goal_condition,
        "num_predicted_stops": sum(r["predicted_stop"] for r in stats),
        "num_fails_by_api_limit": sum(1 for r in stats if r["num_api_fails"] >= max_api_fails),
        "num_fails_by_traj_len_limit": sum(1 for r in stats if r["traj_len"] >= max_traj_steps),
        "num_fails_by_error": sum(r["error"] for r in stats),
    }


def aggregate_by_split(records_by_split: dict[str, Iterable[dict]], max_api_fails: int = MAX_API_FAILS,
                       max_traj_steps: int = MAX_TRAJ_STEPS) -> dict[str, dict]:
    """One :func:`aggregate_metrics` summary per split."""
    return {split: aggregate_metrics(records, max_api_fails, max_traj_steps)
            for split, records in records_by_split.items()}


def metrics_file(records: Iterable[dict] | dict, max_api_fails: int = MAX_API_FAILS,
                 max_traj_steps: int = MAX_TRAJ_STEPS) -> dict:
    """What TEACh's ``teach_eval`` writes to ``--metrics_file``: the aggregate plus ``traj_stats`` by instance id."""
    stats = _by_instance(records)
    summary = aggregate_metrics(stats, max_api_fails, max_traj_steps)
    summary["traj_stats"] = stats
    return summary
