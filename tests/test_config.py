import pytest

from masa.config import Config, apply_overrides, from_dict, to_dict


def test_overrides_are_typed():
    cfg = apply_overrides(Config(), ["normalise.max_frames=200", "normalise.mirror_left_hand=false",
                                     "synth.image_size=320x240", "normalise.hand_conf_threshold=0.5"])
    assert cfg.normalise.max_frames == 200 and cfg.normalise.mirror_left_hand is False
    assert cfg.synth.image_size == (320, 240) and cfg.normalise.hand_conf_threshold == 0.5


@pytest.mark.parametrize("bad", ["normalise.nope=1", "nothing.max_frames=1", "normalise.max_frames=abc", "novalue"])
def test_bad_overrides_are_refused(bad):
    with pytest.raises(ValueError):
        apply_overrides(Config(), [bad])


def test_round_trip_through_dict():
    cfg = apply_overrides(Config(), ["synth.num_classes=8"])
    assert from_dict(Config, to_dict(cfg)) == cfg


def test_configs_written_before_a_setting_was_renamed_still_load():
    old = to_dict(Config())
    del old["model"]["mask_stage"]
    old["model"]["mask_before_tcn"] = False  # the authors' order, before it became mask_stage
    assert from_dict(Config, old).model.mask_stage == "after"
    old["model"]["mask_before_tcn"] = True
    assert from_dict(Config, old).model.mask_stage == "before"
