"""A frozen-BatchNorm backbone (the ``paper`` config) is not trained from random weights: without ``--init-backbone``
``perception.train`` switches it to trainable GroupNorm and says so."""

import pytest

from perception import train
from perception.odin import CONFIGS
from perception.odin.backbone import FrozenBatchNorm2d
from tests.test_perception_train import write_box_dataset


def test_paper_config_from_random_weights_gets_trainable_norms():
    paper = CONFIGS["paper"]
    assert paper.norm == "frozen_bn"
    config, notice = train.trainable_norm_config(paper, pretrained_backbone=False)
    assert config.norm == "group" and config.replace(norm="frozen_bn") == paper  # nothing else changes
    assert "--init-backbone" in notice and "frozen_bn" in notice and "group" in notice


def test_frozen_norms_are_kept_with_a_pretrained_backbone_and_group_norm_is_left_alone():
    paper = CONFIGS["paper"]
    assert train.trainable_norm_config(paper, pretrained_backbone=True) == (paper, None)
    for name in ("tiny", "small"):
        assert train.trainable_norm_config(CONFIGS[name], pretrained_backbone=False) == (CONFIGS[name], None)


class _Built(Exception):
    pass


def test_train_run_applies_the_switch(tmp_path, monkeypatch, capsys):
    """A tiny config with frozen BN, no --init-backbone: the model run() builds has GroupNorm and the notice is printed
    (stopped before the first step)."""
    data = write_box_dataset(tmp_path / "data")
    config_path = tmp_path / "tiny_frozen_bn.json"
    CONFIGS["tiny"].replace(name="tiny-frozen-bn", norm="frozen_bn").to_json(config_path)
    built = {}

    def spy(model, config):
        built["model"] = model
        raise _Built

    monkeypatch.setattr(train, "build_optimizer", spy)
    out = tmp_path / "run"
    args = train.parse_args(["--config", str(config_path), "--data", str(data), "--out", str(out), "--max-steps", "1",
                             "--resolution", "64", "--views", "2", "--threads", "1"])
    with pytest.raises(_Built):
        train.run(args)
    model = built["model"]
    assert model.config.norm == "group"
    assert not any(isinstance(m, FrozenBatchNorm2d) for m in model.modules())
    assert "norm='group'" in capsys.readouterr().err
