import dataclasses
import pytest

from masa.config import Config, apply_overrides, from_dict, to_dict
from masa.train.schedule import fit_to_budget


def test_overrides_are_typed():
    cfg = apply_overrides(Config(), ["normalise.max_frames=200", "normalise.mirror_left_hand=false",
                                     "synth.image_size=320x240", "normalise.hand_conf_threshold=0.5"])
    assert cfg.normalise.max_frames == 200 and cfg.normalise.mirror_left_hand is False
    assert cfg.synth.image_size == (320, 240) and cfg.normalise.hand_conf_threshold == 0.5
    assert Config().pretrain.dropout is None  # an optional setting: unset until given
    assert apply_overrides(Config(), ["pretrain.dropout=0.1"]).pretrain.dropout == 0.1
    assert apply_overrides(Config(), ["pretrain.dropout=0.1", "pretrain.dropout=none"]).pretrain.dropout is None


@pytest.mark.parametrize("bad", ["normalise.nope=1", "nothing.max_frames=1", "normalise.max_frames=abc", "novalue",
                                 "pretrain.dropout=abc"])
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


def test_every_preset_resolves_and_small_data_sets_what_won():
    from masa.config import PRESETS, pretraining_model, resolve

    for name in PRESETS:
        resolve([name])
    cfg = resolve(["small-data"])
    assert cfg.normalise.body_frame == "shoulders" and cfg.normalise.wrists_from_hands
    assert cfg.model.backbone == "masa" and cfg.model.size == "tiny"
    assert cfg.augment.rotate > 0 and cfg.augment.scale > 0 and cfg.augment.shear > 0 and cfg.augment.shift > 0
    assert cfg.model.dropout > Config().model.dropout  # small data: more transformer dropout than the paper's
    assert pretraining_model(cfg).dropout == Config().model.dropout  # ... in fine-tuning: pre-training keeps 0.1
    assert cfg.finetune.num_frames >= 30  # every frame of a real clip (<= 30 frames), not half of them
    assert 0 < cfg.finetune.layer_decay < 1  # the embedding learns slower than the classifier
    assert cfg.finetune.precise_bn > 0  # what is validated has batch-norm statistics of its own weights
    assert fit_to_budget(cfg.finetune, 389) == cfg.finetune  # WLASL100's 389 clips: every epoch of the recipe
    assert fit_to_budget(cfg.finetune, 959).epochs < cfg.finetune.epochs  # a larger vocabulary: fewer
    assert resolve(["paper"]) == Config()  # the paper's setup stays the default, untouched


def test_a_step_budget_compresses_the_schedule_for_a_larger_set():
    from masa.config import FinetuneConfig

    recipe = FinetuneConfig(epochs=80, batch_size=16, lr_milestones=(60, 70), warmup_epochs=4, step_budget=2000)
    assert fit_to_budget(recipe, 389) == recipe  # 25 steps an epoch: 2,000 steps, the recipe as it is
    assert fit_to_budget(recipe, 100) == recipe  # a budget never lengthens a run
    larger = fit_to_budget(recipe, 959)  # 60 steps an epoch
    assert larger.epochs == 33 and larger.epochs * 60 <= 2000 < (larger.epochs + 1) * 60
    assert larger.lr_milestones == (25, 29) and larger.warmup_epochs == pytest.approx(4 * 33 / 80)
    assert (larger.lr, larger.batch_size, larger.step_budget) == (recipe.lr, 16, 2000)
    assert fit_to_budget(recipe, 100_000).epochs == 1  # at least one epoch
    assert fit_to_budget(dataclasses.replace(recipe, step_budget=0), 959) == dataclasses.replace(recipe, step_budget=0)


def test_fine_tuning_schedules_and_encoder_learning_rate():
    from masa.config import FinetuneConfig, ModelConfig
    from masa.model.registry import build_classifier
    from masa.train.finetune import make_optimizer
    from masa.train.schedule import finetune_rate

    steps = FinetuneConfig(lr=0.01, lr_milestones=(2, 4), lr_gamma=0.1, epochs=6)
    assert [finetune_rate(e, steps) for e in range(6)] == pytest.approx([0.01, 0.01, 1e-3, 1e-3, 1e-4, 1e-4])
    cos = FinetuneConfig(lr=1.0, schedule="cosine", warmup_epochs=2, epochs=12)
    rates = [finetune_rate(e, cos) for e in range(12)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(1.0) and rates[7] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(rates[2:], rates[3:])) and rates[-1] < 0.03
    model = build_classifier(ModelConfig(size="tiny"), 5)
    opt = make_optimizer(model, FinetuneConfig(encoder_lr_scale=0.1, weight_decay=0.05))
    enc = {id(p) for p in model.encoder.parameters()}
    for group in opt.param_groups:
        assert group["lr_scale"] == (0.1 if id(group["params"][0]) in enc else 1.0)
        assert all((id(p) in enc) == (id(group["params"][0]) in enc) for p in group["params"])
        assert group["weight_decay"] == (0.05 if group["params"][0].dim() >= 2 else 0.0)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="unknown finetune.optimizer 'adam'"):
        make_optimizer(model, FinetuneConfig(optimizer="adam"))


def test_layer_decay_slows_the_encoder_layer_by_layer():
    """finetune.layer_decay=d on a 2-block encoder: the classifier and pooling at lr, block 1 at
    d, block 0 at d^2, the embedding (and the transformer's input norm) at d^3, all times
    encoder_lr_scale; every parameter in exactly one group."""
    from masa.config import FinetuneConfig, ModelConfig
    from masa.model.registry import build_classifier
    from masa.train.finetune import make_optimizer

    model = build_classifier(ModelConfig(size="tiny", part_embedding="mlp", pool="frames"), 5)
    assert len(model.encoder.transformer.blocks) == 2
    opt = make_optimizer(model, FinetuneConfig(layer_decay=0.5, encoder_lr_scale=0.1))
    scale = {id(p): g["lr_scale"] for g in opt.param_groups for p in g["params"]}
    assert len(scale) == len(list(model.parameters())) == sum(len(g["params"]) for g in opt.param_groups)

    def of(module):
        return {round(scale[id(p)], 9) for p in module.parameters()}

    enc = model.encoder
    assert of(model.fc) == {1.0} and of(enc.pool) == {0.1}
    assert of(enc.transformer.blocks[1]) == {0.05} and of(enc.transformer.blocks[0]) == {0.025}
    assert of(enc.embedding) == of(enc.transformer.input_norm) == {0.0125}
    off = make_optimizer(model, FinetuneConfig())  # the default: one rate for all
    assert {g["lr_scale"] for g in off.param_groups} == {1.0}
