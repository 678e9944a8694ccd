"""Episode videos (agent.video): panels from synthetic observations, written as MP4 and read back with OpenCV."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from agent.executor import Executor
from agent.observation import AgentAction, build_observation
from agent.program import Program
from agent.video import EpisodeVideo, class_colour, wrap
from perception.detections import Detections
from perception.memory import SemanticMemory

SIZE = 64
DIALOGUE = [("Commander", "hi! I'd like one slice of lettuce on a clean plate, please, the plate is by the sink"),
            ("Driver", "got it"), ("Commander", "the knife is on the counter left of the table")]


def fake_event(step: int, success: bool = True):
    """An Event-like object: a gradient frame, a sloping depth plane, the agent walking along +z and turning."""
    rows = np.linspace(0.8, 3.0, SIZE, dtype=np.float32)[::-1]
    depth = np.repeat(rows[:, None], SIZE, axis=1)
    frame = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    frame[..., 0] = np.linspace(0, 255, SIZE, dtype=np.uint8)[None, :]
    frame[..., 2] = 120
    metadata = {"agent": {"position": {"x": 0.0, "y": 0.9, "z": 0.25 * step}, "rotation": {"y": 30.0 * step},
                          "cameraHorizon": 30.0},
                "fov": 90.0, "lastActionSuccess": success, "errorMessage": "" if success else "blocked",
                "inventoryObjects": [{"objectId": "Mug|1|1|1", "objectType": "Mug"}] if step >= 3 else []}
    return SimpleNamespace(frame=frame, depth_frame=depth, metadata=metadata)


def two_detections() -> Detections:
    masks = np.zeros((2, SIZE, SIZE), dtype=bool)
    masks[0, 10:40, 5:30] = True
    masks[1, 30:60, 35:60] = True
    return Detections(masks, ["Mug", "CounterTop"], [0.9, 0.7])


def memory_with_instances() -> SemanticMemory:
    memory = SemanticMemory()
    rng = np.random.default_rng(0)
    memory.insert("Mug", rng.normal((0.5, 0.95, 1.0), 0.03, size=(40, 3)), score=0.9)
    memory.insert("CounterTop", rng.uniform((-1.0, 0.85, 1.5), (1.0, 0.95, 2.1), size=(200, 3)), score=0.8)
    return memory


def observations(count: int):
    memory = memory_with_instances()
    out = []
    for step in range(count):
        detections = two_detections() if step % 2 == 0 else None
        out.append(build_observation(fake_event(step, success=step != 2), step, detections,
                                     memory if step != 1 else None))
    return out


def read_back(path) -> tuple[int, tuple[int, int]]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    count, shape = 0, None
    while True:
        ok, image = capture.read()
        if not ok:
            break
        count += 1
        shape = image.shape[:2]
    capture.release()
    return count, shape


@pytest.mark.parametrize("with_executor", [True, False])
def test_video_frames_round_trip(tmp_path, with_executor):
    video = EpisodeVideo(tmp_path / "videos", fps=4, size=160)
    executor = Executor(Program([])) if with_executor else None
    path = video.start("game.tfd/0", DIALOGUE)
    assert path.parent == tmp_path / "videos" and "/" not in path.name
    actions = [AgentAction("MoveAhead"), AgentAction("PickupObject", 0.3, 0.4), AgentAction("RotateRight"),
               AgentAction("PutObject", 0.7, 0.8), AgentAction("LookDown")]
    for obs, action in zip(observations(5), actions):
        if executor is not None:
            executor.observe(obs)
        panel = video.frame(obs, action, executor)
        assert panel.shape == (video.height, video.width, 3) and panel.dtype == np.uint8
    written = video.finish({"success": 1, "completed_goal_conditions": 2, "total_goal_conditions": 2,
                            "goal_condition_success": 1.0, "traj_len": 5, "task": "Coffee"})
    assert written == path and path.exists() and path.stat().st_size > 0
    assert video.writer is None
    count, shape = read_back(path)
    assert count == 5 + video.card_frames
    assert shape == (video.height, video.width)


def test_frame_tolerates_missing_parts(tmp_path):
    video = EpisodeVideo(tmp_path, size=120)
    video.start("bare", [])
    obs = build_observation(fake_event(0), 0, Detections.empty(SIZE, SIZE), None)
    video.frame(obs, None, None)
    video.frame(obs, AgentAction("Stop"), SimpleNamespace())  # an executor-like object with nothing on it
    assert video.finish(None).exists()
    assert video.finish({}) is None  # already closed
    count, _ = read_back(tmp_path / "bare.mp4")
    assert count == 2 + video.card_frames


def test_finish_without_frames_writes_the_card(tmp_path):
    video = EpisodeVideo(tmp_path, size=120, card_seconds=1.0, fps=3)
    video.start("empty")
    path = video.finish({"error": 1, "error_message": "ValueError: bad episode"})
    count, _ = read_back(path)
    assert count == 3


def test_map_pixels_agree_with_occupancy_map_pixel_of(tmp_path):
    """The memory dots and the pose arrow sit where ``OccupancyMap.pixel_of`` puts those coordinates."""
    video = EpisodeVideo(tmp_path, size=200)
    video.start("pixels")
    executor = Executor(Program([]))
    obs = observations(1)[0]
    executor.observe(obs)
    memory = SemanticMemory()
    memory.insert("Apple", np.array([[1.52, 0.9, 1.03]] * 3), score=1.0)
    obs.memory = memory
    panel = video.frame(obs, None, executor)
    half, top, left, side = video.window
    row, col = executor.map.pixel_of(1.52, 1.03, half_extent=half, scale=1)
    factor = video.size / side
    r, c = int((row - top + 0.5) * factor), int((col - left + 0.5) * factor) + video.size
    patch = panel[r - 1:r + 2, c - 1:c + 2].reshape(-1, 3)
    assert np.any(np.all(np.abs(patch.astype(int) - class_colour("Apple")) < 40, axis=1))
    video.finish()


def test_wrap_fits_the_width():
    lines = wrap("a " * 40 + "supercalifragilisticexpialidocious" * 3, 150, 0.4)
    assert len(lines) > 3
    assert all(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)[0][0] <= 150 for line in lines)
