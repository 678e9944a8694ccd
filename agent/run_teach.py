"""Run an agent over a TEACh split and score it with TEACh's metrics.

    python -m agent.run_teach --split valid_unseen                          # TfD, gt perception, embedded world
    python -m agent.run_teach --split valid_unseen --perception odin --limit 12 --out results/odin
    python -m agent.run_teach --split valid_unseen --mode edh --resume --out results/edh_gt
    python -m agent.run_teach --model agent.baselines.random_agent:RandomTeachModel --model-args=--seed=1

Per episode, as TEACh's ``inference_runner`` does: restore the game's initial state (EDH: then replay the driver's
history actions, clicks included), let the agent act until it says Stop, 1,000 actions, or 30 failed actions, then
score the final state with the official checker (``episodes.metrics.score_tfd`` / ``score_edh``). The agent sees
only :class:`~agent.observation.Observation` s (frames, pose, held types, last outcome, the provider's detections and
memory) and the episode's dialogue; never the task, the object list or the expert's future actions.

Results go to ``--out`` (default ``results/<split>_<mode>_<perception>``): ``config.json``, one line per episode in
``episodes.jsonl`` (appended and flushed; ``--resume`` skips finished episodes), ``summary.json`` / ``summary.md``
recomputed from the lines. An exception inside an episode is recorded with ``error`` and scored, never dropped; a
malformed episode file is recorded as an error line too. Files are described in ``results/README.md``.

Parallel and distributed runs (``parallel.run_jobs``): ``--workers N`` runs episodes on N spawned processes, each with
its own simulator, perception and agent; ``--ray local|auto|ADDRESS`` runs them on Ray actors (one per cluster CPU
unless ``--workers`` says). An episode that raises (``error = 1``; a malformed file aside), runs past
``--episode-timeout`` or kills its worker is retried once on a fresh worker; the record kept is the last attempt's,
with ``attempts`` and ``first_error``; an episode whose worker died twice is recorded unscored (the start state's
counts, ``error = 1``). Lines are appended in the order episodes finish; when every episode is done the file is
rewritten (atomically) in the split's file-name order, one line per episode, so a parallel, distributed or resumed
run leaves the same file as a serial one, timing fields aside. Ctrl-C stops the workers and prints the command that
resumes; a lock on the run directory keeps a second run from writing into it at the same time.
"""

from __future__ import annotations

import shlex
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path


from episodes.dataset import game_path, split_files
from episodes.formats import load_edh_instance, load_game, load_tfd_instance
from episodes.metrics import MAX_API_FAILS, MAX_TRAJ_STEPS, new_traj_metrics, score_edh, score_tfd
from episodes.schema import EpisodeFormatError

from .base import EpisodeAgent, EpisodeInput, InvalidAction
from .observation import THOR_NAMES, AgentAction, build_observation
from .results import ResultsWriter, run_lock

PRIVATE_INSTANCE_KEYS = ("driver_actions_future", "driver_images_future", "interactions", "state_changes",
                         "expected_init_goal_conditions_total",
                         "expected_init_goal_conditions_satisfied", "init_state_diff", "final_state_diff",
                         "history_subgoals", "future_subgoals")
"""Instance fields the runner keeps from agents: they are for scoring."""


def public_instance(instance: dict) -> dict:
    return {k: v for k, v in instance.items() if k not in PRIVATE_INSTANCE_KEYS}


PERCEPTIONS = ("gt", "odin", "odin-2d")
PLANNERS = ("retrieval", "llm", "oracle")
"""``oracle`` reads the game's task instead of the dialogue: the named gold-parse ablation, never the default."""


@dataclass
class RunConfig:
    split: str = "valid_unseen"
    mode: str = "tfd"
    perception: str = "gt"
    planner: str = "retrieval"
    env: str = "embedded"
    data_dir: str | None = None
    limit: int | None = None
    seed: int = 0
    out: str | None = None
    resume: bool = False
    model: str | None = None
    model_args: list[str] = field(default_factory=list)
    max_steps: int = MAX_TRAJ_STEPS
    max_fails: int = MAX_API_FAILS
    threads: int = 1
    save_video: bool = False
    llm_url: str | None = None
    llm_model: str | None = None
    width: int = 300
    height: int = 300
    workers: int | None = 1
    """Local worker processes (1: this process); with ``ray``, Ray actors (None: one per cluster CPU)."""
    ray: str | None = None
    """``local``, ``auto`` or a Ray cluster address; None for no Ray."""
    episode_timeout: float | None = None
    """Seconds an episode may run before it is stopped, recorded and retried (None: no limit)."""
    perception_options: dict = field(default_factory=dict)
    """Keyword options for the perception provider (``--perception-option KEY=VALUE``; e.g. ``min_score``)."""

    def run_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        label = self.model.split(":")[-1] if self.model else self.perception
        return Path("results") / f"{self.split}_{self.mode}_{label}"


# ---------------------------------------------------------------------------------------------- episodes on disk
@dataclass
class EpisodeFile:
    path: Path
    instance_id: str
    game_id: str


def list_episodes(data_dir: Path, split: str, mode: str) -> list[EpisodeFile]:
    kind = "tfd_instances" if mode == "tfd" else "edh_instances"
    out = []
    for path in split_files(data_dir, kind, split):
        name = path.name
        instance_id = name[: -len(".json")]  # TEACh's ids: <game_id>.tfd, <game_id>.edh<k>
        game_id = name.split(".")[0]
        out.append(EpisodeFile(path, instance_id, game_id))
    return out


def ensure_data(config: RunConfig, log=print) -> Path:
    if config.data_dir:
        root = Path(config.data_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"--data-dir {root}: no such directory")
        return root
    from episodes.default_set import default_root, ensure_default_set, missing_games

    root = default_root()
    if missing_games(root, (config.split,)):
        log(f"run_teach: no episode data given; generating the embedded default set for {config.split} into {root} "
            "(once; minutes)")
    return ensure_default_set(root, splits=(config.split,), progress=True)


# ---------------------------------------------------------------------------------------------- agents
class OraclePlanner:
    """Gold task parse: the game's task family and parameters (an ablation of the language side only)."""

    def __init__(self):
        self.game = None

    def plan(self, dialogue):
        from .expand import expand
        from .program import TaskIntent

        return expand(TaskIntent(self.game.task_name, list(self.game.task_params)))


def make_planner(config: RunConfig):
    if config.planner == "oracle":
        return OraclePlanner()
    if config.planner == "llm":
        from .llm_planner import LLMPlanner

        return LLMPlanner(url=config.llm_url, model=config.llm_model)
    from .planner import RetrievalPlanner

    return RetrievalPlanner()


def make_agent(config: RunConfig, process_index: int = 0, num_processes: int = 1) -> EpisodeAgent:
    if config.model:
        from .teach_model import TeachModelAgent

        return TeachModelAgent(config.model, list(config.model_args), process_index, num_processes)
    from .agent import DialogueAgent

    return DialogueAgent(make_planner(config))


def make_perception(config: RunConfig):
    from perception.providers import make_provider

    options = dict(config.perception_options)
    if config.perception != "gt":
        options.setdefault("threads", config.threads)
    return make_provider(config.perception, **options)


def check_perception_options(name: str, options: dict) -> None:
    """Refuse ``--perception-option`` keys the provider does not take, before any episode starts (naming them and
    the ones it does take)."""
    import importlib
    import inspect

    from perception.providers import LAZY_PROVIDERS, PROVIDERS

    if not options:
        return
    if name not in PROVIDERS and name in LAZY_PROVIDERS:
        importlib.import_module(LAZY_PROVIDERS[name])
    for cls in PROVIDERS[name].__mro__:  # a subclass taking **options passes them to a parent that names them
        parameters = inspect.signature(cls).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            break
    accepted = sorted(k for k, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                      and k not in ("self", "model", "memory"))
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"--perception-option {', '.join(unknown)}: not an option of the {name!r} provider "
                         f"(its options: {', '.join(accepted)})")


def parse_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` of ``--perception-option``: the value as a JSON number, boolean or null when it reads as one
    (``0.15``, ``2``, ``true``), else the string itself (a checkpoint path)."""
    import json

    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key.isidentifier():
        raise ValueError(f"--perception-option must be KEY=VALUE (e.g. min_score=0.15), got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return key, value
    return key, parsed if isinstance(parsed, (int, float, bool)) or parsed is None else value


# ---------------------------------------------------------------------------------------------- one episode
def replay_history(env, instance, provider, frames: list) -> bool:
    """EDH: send the driver's history actions (motions, clicks at the logged x, y) as TEACh's runner replays them;
    the provider observes each frame, so the memory starts from what the driver saw. Returns whether all succeeded."""
    ok = True
    for action in instance.driver_action_history:
        name = action.get("action_name")
        thor = THOR_NAMES.get(name)
        if thor is None or thor == "Stop":
            continue
        args = {}
        if action.get("obj_interaction_action"):
            if action.get("x") is None or action.get("y") is None:
                ok = False
                continue
            args = {"x": float(action["x"]), "y": float(action["y"])}
        event = env.step(action=thor, **args)
        ok &= bool(event.metadata["lastActionSuccess"])
        provider.observe(event)
        frames.append(event.frame)
    return ok


def run_episode(env, provider, agent: EpisodeAgent, episode: EpisodeFile, config: RunConfig, video=None) -> dict:
    """Run and score one episode; never raises for a problem inside the episode (it is recorded instead)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    record = new_traj_metrics(episode.instance_id, episode.game_id)
    record.update(task="(unknown)", split=config.split, mode=config.mode, steps=0, failed_actions=0,
                  wall_time_s=0.0, cpu_time_s=0.0, error_message=None)
    pred_actions: list = []
    traj_len = fails = 0
    predicted_stop = False
    init_success = True
    game = instance = None
    try:
        instance = load_edh_instance(episode.path) if config.mode == "edh" else load_tfd_instance(episode.path)
        game = load_game(game_path(episode.path.parents[2], config.split, instance.game_id))
        record["task"] = game.task_name
        if isinstance(getattr(agent, "planner", None), OraclePlanner):
            agent.planner.game = game
        env.reset(scene=game.world, initial_state=game.initial_state)
        provider.reset(episode)
        history_frames: list = []
        if config.mode == "edh":
            init_success = replay_history(env, instance, provider, history_frames)
        event = env.last_event
        detections = provider.observe(event)
        observation = build_observation(event, 0, detections, provider.memory)
        dialogue = [(str(s), str(t)) for s, t in instance.dialog_history]
        history = [a.get("action_name", "") for a in instance.driver_action_history] if config.mode == "edh" else []
        agent.start(EpisodeInput(config.mode, episode.instance_id, instance.game_id, dialogue, history,
                                 public_instance(instance.to_dict()), history_frames, str(episode.path)))
        if video is not None:
            video.start(episode.instance_id, dialogue)
        while traj_len < config.max_steps:
            try:
                action = agent.act(observation)
            except InvalidAction as error:
                traj_len += 1
                fails += 1
                pred_actions.append([str(error)[:60], None, None])
                if fails >= config.max_fails:
                    break
                continue
            if action.name == "Stop":  # TEACh logs Stop in pred_actions and counts it in the trajectory length
                predicted_stop = True
                pred_actions.append(action.to_record())
                traj_len += 1
                break
            event = env.step(action=action.name, **action.thor_args())
            traj_len += 1
            pred_actions.append(action.to_record())
            if not event.metadata["lastActionSuccess"]:
                fails += 1
            detections = provider.observe(event)
            observation = build_observation(event, traj_len, detections, provider.memory)
            if video is not None:
                video.frame(observation, action, getattr(agent, "executor", None))
            if fails >= config.max_fails:
                break
    except EpisodeFormatError as error:
        record.update(error=1, error_message=f"{type(error).__name__}: {error}")
    except Exception as error:  # noqa: BLE001 - an episode's failure is recorded and scored, never fatal
        record.update(error=1, error_message=f"{type(error).__name__}: {error}",
                      traceback=traceback.format_exc(limit=6))
    if game is not None and instance is not None:
        try:
            final_objects = env.export_state()["objects"]
            if config.mode == "edh":
                scored = score_edh(instance, final_objects, traj_len, predicted_stop, fails, bool(record["error"]),
                                   init_success, pred_actions)
            else:
                scored = score_tfd(game, instance, final_objects, traj_len, predicted_stop=predicted_stop,
                                   num_api_fails=fails, error=bool(record["error"]), init_success=init_success,
                                   pred_actions=pred_actions)
            record.update(scored)
            record["instance_id"] = episode.instance_id  # the file's own name decides (resume, merges)
        except Exception as error:  # noqa: BLE001
            record.update(error=1, error_message=record["error_message"] or f"scoring: {type(error).__name__}: "
                                                                             f"{error}")
    record.update(steps=traj_len, failed_actions=fails, traj_len=traj_len, predicted_stop=int(predicted_stop),
                  num_api_fails=fails, pred_actions=pred_actions,
                  wall_time_s=round(time.perf_counter() - wall0, 3), cpu_time_s=round(time.process_time() - cpu0, 3))
    try:
        record.update(agent.report())
    except Exception:  # noqa: BLE001
        pass
    if video is not None:
        video.finish(record)
    return record


# ---------------------------------------------------------------------------------------------- workers
def unscored_record(episode: EpisodeFile, config: RunConfig, message: str) -> dict:
    """The record of an episode that produced none (its worker died, or was killed past the time limit): ``error =
    1`` and the message, scored as if the agent had done nothing (the start's goal-condition counts stay in the
    denominators, as for any failed episode); a file that cannot be read scores 0 with ``gt_path_len = 0``."""
    from episodes.checker import check_task, prepare_objects
    from episodes.metrics import evaluate_traj
    from episodes.tasks import make_task

    record = new_traj_metrics(episode.instance_id, episode.game_id)
    record.update(task="(unknown)", split=config.split, mode=config.mode, steps=0, failed_actions=0, wall_time_s=0.0,
                  cpu_time_s=0.0)
    try:
        if config.mode == "edh":
            instance = load_edh_instance(episode.path)
            total, satisfied = instance.expected_init_goal_conditions or (0, 0)
        else:
            instance = load_tfd_instance(episode.path)
        game = load_game(game_path(episode.path.parents[2], config.split, instance.game_id))
        record["task"] = game.task_name
        if config.mode != "edh":
            start = check_task(make_task(game.task_id, game.task_params),
                               prepare_objects(game.initial_state.get("objects", []),
                                               game.initial_state.get("custom_object_metadata")))
            total, satisfied = start.goal_conditions_total, start.goal_conditions_satisfied
        record.update(evaluate_traj(False, len(instance.driver_actions_future or []), 0, total, satisfied, total,
                                    satisfied))
        record["init_success"] = 1
    except Exception:  # noqa: BLE001 - the record stays the zero record
        pass
    record.update(instance_id=episode.instance_id, error=1, error_message=message)
    return record


@dataclass
class _Worker:
    """What one worker keeps between episodes: its simulator, perception and agent."""

    config: RunConfig
    env: object
    provider: object
    agent: EpisodeAgent
    video: object = None


def worker_setup(config: RunConfig, info) -> _Worker:
    from envs import make_env

    env = make_env(backend=config.env, width=config.width, height=config.height, seed=config.seed)
    video = None
    if config.save_video:
        from .video import EpisodeVideo

        video = EpisodeVideo(config.run_dir() / "videos")
    return _Worker(config, env, make_perception(config), make_agent(config, info.index, info.count), video)


def worker_run(worker: _Worker, episode: EpisodeFile) -> dict:
    return run_episode(worker.env, worker.provider, worker.agent, episode, worker.config, worker.video)


def worker_teardown(worker: _Worker) -> None:
    try:
        worker.agent.close()
    finally:
        worker.env.close()


def episode_failure(record: dict) -> str | None:
    """Why an episode record counts as a failed attempt (retried once on a fresh worker), or None. A malformed
    episode file is a finished episode: reading it again would fail again."""
    message = record.get("error_message") or "error"
    if record.get("error") == 1 and not message.startswith(EpisodeFormatError.__name__ + ":"):
        return message
    return None


def resume_command(argv: list[str] | None) -> str:
    args = list(argv if argv is not None else sys.argv[1:])
    if "--resume" not in args:
        args.append("--resume")
    return "python -m agent.run_teach " + shlex.join(args)


# ---------------------------------------------------------------------------------------------- the run
def run(config: RunConfig, log=print, progress: bool = True, argv: list[str] | None = None, stats=None) -> dict:
    """Run (or resume) the configured episodes and return the summary; ``stats`` (a ``parallel.PoolStats``) is filled
    with the workers' figures (peak memory, retries)."""
    from parallel import Job, run_jobs

    data_dir = ensure_data(config, log)
    episodes = list_episodes(data_dir, config.split, config.mode)
    if not episodes:
        raise FileNotFoundError(f"no {config.mode} instances for split {config.split!r} under {data_dir}")
    if config.limit is not None:
        episodes = episodes[: config.limit]
    out = config.run_dir()
    stored = asdict(config)
    stored["data_dir"] = str(data_dir)
    for how in ("resume", "workers", "ray", "episode_timeout"):  # how this invocation runs, not what the run is
        stored.pop(how, None)
    if not stored["perception_options"]:  # a run with the provider's defaults reads as before the field existed
        stored.pop("perception_options")
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out):
        writer = ResultsWriter(out, stored, resume=config.resume)
        done = writer.done_ids()
        todo = [e for e in episodes if e.instance_id not in done]
        if done:
            log(f"run_teach: resuming {out}: {len(done)} episodes done, {len(todo)} to go")
        if config.model:  # a bad --model spec is one error line here, not one per worker
            from .teach_model import load_model_class

            load_model_class(config.model)
        import tqdm

        successes = sum(r.get("success", 0) for r in writer.records())
        finished = len(done)
        by_id = {e.instance_id: e for e in todo}

        def retrying(outcome) -> None:
            log(f"run_teach: {outcome.key}: {outcome.error}; retrying on a fresh worker")

        bar = tqdm.tqdm(total=len(todo), disable=not progress, desc=f"{config.split} {config.mode}", unit="ep")
        outcomes = run_jobs([Job(e.instance_id, e) for e in todo], worker_setup, worker_run, config,
                            workers=config.workers, ray=config.ray, timeout=config.episode_timeout,
                            failure=episode_failure, teardown=worker_teardown, on_retry=retrying, stats=stats)
        try:
            for outcome in outcomes:
                record = outcome.value
                if record is None:
                    record = unscored_record(by_id[outcome.key], config, outcome.error or "no result")
                if outcome.attempts > 1:
                    record.update(attempts=outcome.attempts, first_error=outcome.first_error)
                writer.append(record)
                finished += 1
                successes += int(record.get("success", 0))
                bar.update(1)
                bar.set_postfix(SR=f"{successes / finished:.1%}", last=record.get("task", "")[:12])
        except KeyboardInterrupt:
            bar.close()
            writer.write_summary()
            log(f"run_teach: interrupted; {len(writer.done_ids())} of {len(done) + len(todo)} episodes are recorded "
                f"in {writer.episodes_path}. Continue with:\n  {resume_command(argv)}")
            raise
        finally:
            outcomes.close()  # stops the workers if we leave early
            bar.close()
        writer.rewrite_in_order([e.instance_id for e in episodes])
        summary = writer.write_summary()
    headline = summary.get("success", {})
    log(f"run_teach: {out}: SR {headline.get('success_rate', 0.0):.1%} ({headline.get('num_successes', 0)}/"
        f"{headline.get('num_evals', 0)}), GC {summary['goal_condition_success']['goal_condition_success_rate']:.1%}; "
        f"report: {out / 'summary.md'}")
    return summary


def parse_args(argv: list[str] | None) -> RunConfig:
    from episodes.dataset import DIVIDED_SPLITS
    from envs.scenes import SPLITS

    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m agent.run_teach", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="valid_unseen", choices=SPLITS + DIVIDED_SPLITS,
                        help="TEACh split to run (the embedded default set has each of them)")
    parser.add_argument("--mode", default="tfd", choices=("tfd", "edh"),
                        help="tfd = the whole task from the dialogue; edh = continue after the recorded history")
    parser.add_argument("--perception", default="gt", choices=PERCEPTIONS,
                        help="perception provider: gt = the simulator's segmentation (ground-truth ablation), odin "
                             "= the shipped ODIN checkpoint, odin-2d = its 2D path")
    parser.add_argument("--perception-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the perception provider, repeatable (odin: min_score=0.15, zoom_tiles=2, "
                             "context_views=3, checkpoint=PATH, ...; see perception/README.md); stored in config.json")
    parser.add_argument("--memory-option", action="append", default=[], metavar="FIELD=VALUE",
                        help="a field of the provider's 3D memory (perception.memory.MemoryConfig), repeatable "
                             "(e.g. unseen_penalty=0.3); stored in config.json with the perception options")
    parser.add_argument("--planner", default="retrieval", choices=PLANNERS,
                        help="retrieval (offline, default), llm (OpenAI-compatible endpoint), oracle (gold task)")
    parser.add_argument("--env", default="embedded", choices=("embedded", "ai2thor"),
                        help="simulator backend: embedded (ours) or ai2thor (the real Unity build)")
    parser.add_argument("--data-dir", help="TEACh data root (default: the embedded default set, made on first use)")
    parser.add_argument("--limit", type=int, help="run only the first N episodes (sorted by file name)")
    parser.add_argument("--seed", type=int, default=0, help="seed passed to the simulator (envs.make_env)")
    parser.add_argument("--out", help="run directory (default results/<split>_<mode>_<perception>)")
    parser.add_argument("--resume", action="store_true", help="continue a run: skip episodes already recorded")
    parser.add_argument("--model", help="run a TEACh TeachModel class instead: package.module:Class")
    parser.add_argument("--model-args", default="", help="arguments for --model, one string (split on spaces)")
    parser.add_argument("--max-steps", type=int, default=MAX_TRAJ_STEPS, help="actions per episode (TEACh's limit)")
    parser.add_argument("--max-fails", type=int, default=MAX_API_FAILS,
                        help="failed actions that end an episode (TEACh's limit)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for model-based perception")
    parser.add_argument("--save-video", action="store_true", help="write an MP4 per episode to <out>/videos/")
    parser.add_argument("--llm-url", help="chat-completions base URL for --planner llm")
    parser.add_argument("--llm-model", help="model name for --planner llm")
    parser.add_argument("--workers", type=int, default=None,
                        help="run episodes on N worker processes, each with its own simulator and model (default 1: "
                             "this process); with --ray, the number of Ray workers (default: one per cluster CPU)")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="run episodes as Ray tasks: 'local' (a private Ray on this machine), 'auto' (the cluster "
                             "this machine joined) or a cluster address HOST:PORT / ray://HOST:PORT; needs the "
                             "'distributed' extra")
    parser.add_argument("--episode-timeout", type=float, metavar="SECONDS",
                        help="stop an episode after this many seconds, record it and retry it once (default: no limit)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for name in ("limit", "max_steps", "max_fails", "threads", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.episode_timeout is not None and not args.episode_timeout > 0:
        parser.error(f"--episode-timeout must be > 0 seconds, got {args.episode_timeout}")
    try:
        perception_options = dict(parse_option(text) for text in args.perception_option)
        check_perception_options(args.perception, perception_options)
    except ValueError as error:
        parser.error(str(error))
    if args.memory_option:
        from perception.memory import parse_memory_options

        try:
            perception_options["memory"] = parse_memory_options(args.memory_option)
        except ValueError as error:
            parser.error(f"--memory-option {error}")
    from parallel import valid_ray_address

    if args.ray is not None and not valid_ray_address(args.ray):
        parser.error(f"--ray must be 'local', 'auto', HOST:PORT or ray://HOST:PORT, got {args.ray!r}")
    config = RunConfig(split=args.split, mode=args.mode, perception=args.perception, planner=args.planner,
                       env=args.env, data_dir=args.data_dir, limit=args.limit, seed=args.seed, out=args.out,
                       resume=args.resume, model=args.model, model_args=args.model_args.split(),
                       max_steps=args.max_steps, max_fails=args.max_fails, threads=args.threads,
                       save_video=args.save_video, llm_url=args.llm_url, llm_model=args.llm_model,
                       workers=args.workers if args.workers is not None or args.ray else 1, ray=args.ray,
                       episode_timeout=args.episode_timeout, perception_options=perception_options)
    config.quiet = args.quiet  # type: ignore[attr-defined]
    return config


def main(argv: list[str] | None = None) -> int:
    """The CLI. Ctrl-C stops the run, prints how to resume and re-raises KeyboardInterrupt (exit status 130)."""
    from parallel import RayUnavailable, WorkerSetupError

    config = parse_args(argv)
    try:
        run(config, progress=not getattr(config, "quiet", False), argv=argv)
    except (FileNotFoundError, FileExistsError, ValueError, RayUnavailable, WorkerSetupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
