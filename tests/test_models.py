"""Every registered model forward and backward on CPU, the paper's parameter count, and
the guarantees about padding and masked frames."""
import pytest
import torch

from masa import pretext
from masa.config import Config, ModelConfig, PretrainConfig
from masa.inputs import PART_SLICES, part_presence
from masa.model.registry import build_classifier, build_pretrainer
from masa.model.sizes import SIZES
from masa.model.transformer import drop_path


def pretrainer(model: ModelConfig, **pretrain):
    return build_pretrainer(Config(model=model, pretrain=PretrainConfig(**pretrain)))


def poses(B=3, T=14, lengths=(14, 9, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(B, T, 49, 2, generator=g)
    conf = torch.rand(B, T, 49, generator=g) * 0.6 + 0.4
    conf[1, :, 21:42] = 0  # sample 1 never shows its left hand
    valid = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    xy = xy * valid[..., None, None]
    conf = conf * valid[..., None]
    return xy, part_presence(conf), valid, conf


def grads_missing(model):
    """Trainable parameters outside the graph, or with a non-finite gradient. (The pooling
    scores' biases get an exact zero: softmax ignores a shift, as in the authors' model.)"""
    bad = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    weights = [p for n, p in model.named_parameters() if p.requires_grad and p.grad is not None and p.dim() >= 2]
    assert all(p.grad.abs().sum() > 0 for p in weights)
    return bad


ARCHITECTURES = [(size, "gcn", "parts", "batch") for size in sorted(SIZES)] + [
    ("tiny", "mlp", "parts", "batch"), ("tiny", "gcn", "frames", "batch"), ("tiny", "mlp", "frames", "batch"),
    ("tiny", "mlp", "frames", "layer")]


@pytest.mark.parametrize("size, part, pool, norm", ARCHITECTURES)
def test_classifier_forward_backward(size, part, pool, norm):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(size=size, part_embedding=part, pool=pool, part_norm=norm), 7)
    xy, present, valid, _ = poses()
    logits = model(xy, present, valid)
    assert logits.shape == (3, 7) and torch.isfinite(logits).all()
    logits.logsumexp(1).sum().backward()
    assert grads_missing(model) == []


VARIANTS = [(size, "visible", "drop", "gcn", "parts") for size in sorted(SIZES)] + [
    ("tiny", "visible", "before", "gcn", "parts"), ("tiny", "full", "after", "gcn", "parts"),
    ("tiny", "full", "drop", "gcn", "parts"), ("tiny", "visible", "drop", "mlp", "frames")]


@pytest.mark.parametrize("size, encoder, stage, part, pool", VARIANTS)
def test_pretrainer_forward_backward(size, encoder, stage, part, pool):
    torch.manual_seed(0)
    cfg = ModelConfig(size=size, encoder=encoder, mask_stage=stage, part_embedding=part, pool=pool)
    model = pretrainer(cfg, queue_size=12)
    xy, present, valid, _ = poses()
    g = torch.Generator().manual_seed(1)
    ma = pretext.random_mask(valid, 0.7, generator=g)
    sa = pretext.random_mask(valid, 0.5, generator=g)
    out = model(xy, present, valid, ma, sa)
    assert out["right"].shape == (3, 14, 21, 2) and out["body"].shape == (3, 14, 7, 2)
    assert out["logits"].shape == (3, 13) and torch.isfinite(out["logits"]).all()
    loss = sum(out[k].pow(2).mean() for k in ("right", "left", "body")) + out["logits"].logsumexp(1).mean()
    loss.backward()
    missing = grads_missing(model)
    if encoder == "full":  # every real frame is kept, so the decoder's mask token is never used
        missing = [n for n in missing if n != "decoder_mask_token"]
    assert missing == []
    assert all(p.grad is None for p in model.encoder_k.parameters())


def test_the_architecture_settings_offer_what_the_model_builds():
    from masa.config_limits import ALLOWED
    from masa.model.embedding import PartMLP, PoseEmbedding
    from masa.model.pooling import POOLS

    assert set(ALLOWED["model.pool"]) == set(POOLS)
    assert set(ALLOWED["model.part_embedding"]) == set(PoseEmbedding.PARTS)
    assert set(ALLOWED["model.part_norm"]) == set(PartMLP.NORMS)
    assert set(ALLOWED["model.mask_stage"]) == set(PoseEmbedding.STAGES)


def test_pre_training_has_its_own_transformer_dropout():
    """pretrain.dropout sets the pre-training's transformers; the classifier keeps model.dropout."""
    def rates(module):
        return {m.p for m in module.modules() if isinstance(m, torch.nn.Dropout)} | \
            {m.dropout for m in module.modules() if hasattr(m, "dropout") and isinstance(m.dropout, float)}

    model = ModelConfig(size="tiny", part_embedding="mlp", embed_dropout=0.0, dropout=0.4)
    assert rates(pretrainer(model).encoder_q.transformer) == {0.4}  # unset: model.dropout, as the paper
    pre = pretrainer(model, dropout=0.05)
    assert rates(pre.encoder_q.transformer) == rates(pre.decoder) == {0.05}
    assert rates(build_classifier(model, 5).encoder.transformer) == {0.4}


def test_drop_path_skips_whole_samples_branches_only_while_training():
    """Stochastic depth: the blocks' rates rise from 0 to model.drop_path; in eval mode the model
    is the one without it, in training some samples differ from it, and never in part."""
    cfg = dict(size="tiny", part_embedding="mlp", pool="frames", part_norm="layer", embed_dropout=0.0, dropout=0.0)
    torch.manual_seed(0)
    plain = build_classifier(ModelConfig(**cfg), 5)
    dropping = build_classifier(ModelConfig(**cfg, drop_path=0.5), 5)
    dropping.load_state_dict(plain.state_dict())
    assert [b.drop_path for b in dropping.encoder.transformer.blocks] == [0.0, 0.5]
    xy, present, valid, _ = poses()
    plain.eval(), dropping.eval()
    assert torch.equal(plain(xy, present, valid), dropping(xy, present, valid))
    plain.train(), dropping.train()
    torch.manual_seed(1)
    same = [torch.allclose(a, b) for a, b in zip(plain(xy, present, valid), dropping(xy, present, valid))]
    assert not all(same)  # at 0.5 over the batch, some sample's last block was skipped
    x = torch.ones(4000, 3, 2)
    kept = drop_path(x, 0.25, training=True)
    whole = kept.flatten(1)
    assert torch.all((whole == 0).all(1) | (whole == 1 / 0.75).all(1))  # a sample's branch all kept or all dropped
    assert abs(float((whole[:, 0] == 0).float().mean()) - 0.25) < 0.03 and abs(float(kept.mean()) - 1) < 0.05
    state = torch.random.get_rng_state()
    assert drop_path(x, 0.0, training=True) is x and drop_path(x, 0.25, training=False) is x
    assert torch.equal(state, torch.random.get_rng_state())  # off, it draws nothing: runs without it are unchanged


@pytest.mark.parametrize("classes", [100, 2000])
def test_base_classifier_has_the_papers_parameter_count(classes):
    model = build_classifier(ModelConfig(size="base"), classes)
    assert sum(p.numel() for p in model.parameters()) == 66_554_994 + 513 * classes


@pytest.mark.parametrize("part, pool, norm", [("gcn", "parts", "batch"), ("mlp", "frames", "batch"),
                                              ("mlp", "frames", "layer")])
def test_padding_changes_nothing(part, pool, norm):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(size="tiny", part_embedding=part, pool=pool, part_norm=norm), 5).eval()
    xy, present, valid, _ = poses()
    alone = model(xy[2:3, :5], present[2:3, :5], valid[2:3, :5])
    padded = model(xy, present, valid)[2:3]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("stage, leaks, part, velocity", [("drop", False, "gcn", False), ("before", False, "gcn", False),
                                                         ("after", True, "gcn", False), ("drop", False, "mlp", False),
                                                         ("drop", False, "mlp", True)])
def test_masked_poses_do_not_leak_unless_asked(stage, leaks, part, velocity):
    torch.manual_seed(0)
    cfg = ModelConfig(size="tiny", mask_stage=stage, part_embedding=part, velocity=velocity)
    model = pretrainer(cfg, queue_size=6).eval()
    xy, present, valid, _ = poses()
    ma = pretext.random_mask(valid, 0.5, generator=torch.Generator().manual_seed(2))
    other = xy.clone()
    for p, s in enumerate(PART_SLICES):
        other[:, :, s][ma[..., p]] = torch.rand_like(other[:, :, s][ma[..., p]])
    a = model.encoder_q(xy, present, valid, ma)
    b = model.encoder_q(other, present, valid, ma)
    assert torch.allclose(a.pooled, b.pooled, atol=1e-6) != leaks


def test_dropped_parts_are_embedded_as_if_their_frames_were_cut_out():
    """mask_stage=drop: a part's temporal convolutions see its visible frames only, back to
    back, so masking whole frames embeds exactly like the shorter clip without them."""
    torch.manual_seed(0)
    model = pretrainer(ModelConfig(size="tiny"), queue_size=6).eval()
    embedding, token = model.encoder_q.embedding, model.encoder_q.mask_token
    xy, _, valid, _ = poses()
    xy, valid = xy[:1], valid[:1]
    cut = torch.tensor([2, 5, 6, 11])
    masked = torch.zeros(1, 14, 3, dtype=torch.bool)
    masked[0, cut] = True
    shown = torch.ones(14, dtype=torch.bool)
    shown[cut] = False
    with torch.no_grad():
        tokens = embedding(xy, valid, masked, token)
        clip = embedding(xy[:, shown], valid[:, shown])
    torch.testing.assert_close(tokens[:, shown], clip, atol=1e-5, rtol=1e-5)
    assert (tokens[0, cut] == token).all()


def test_a_part_seen_in_one_frame_of_the_whole_batch_does_not_stop_training():
    """Batch norm has no variance for one row; a masked batch can leave a part exactly one
    visible frame (mask_stage=drop embeds nothing else)."""
    torch.manual_seed(0)
    model = pretrainer(ModelConfig(size="tiny"), queue_size=4)
    xy, present, valid, _ = poses()
    xy, present, valid = xy[:1, :6], present[:1, :6], valid[:1, :6]
    ma = torch.ones(1, 6, 3, dtype=torch.bool)
    ma[0, 2, 0] = ma[0, 2, 2] = False  # right hand and body seen once, the left hand never
    out = model(xy, present, valid, ma, ma)
    loss = sum(out[k].pow(2).mean() for k in ("right", "left", "body")) + out["logits"].logsumexp(1).mean()
    loss.backward()
    assert torch.isfinite(loss)


def test_visible_encoder_keeps_only_frames_with_a_visible_part():
    model = pretrainer(ModelConfig(size="tiny"), queue_size=6).eval()
    xy, present, valid, _ = poses()
    ma = torch.zeros(3, 14, 3, dtype=torch.bool)
    ma[0, 3] = True  # every part of frame 3 of sample 0
    ma[0, 4, 0] = True  # only the right hand of frame 4
    enc = model.encoder_q(xy, present, valid, ma)
    assert not enc.kept[0, 3] and enc.kept[0, 4] and enc.kept[0, :3].all()
    assert (enc.kept == (valid & ~ma.all(-1))).all()
    assert (enc.tokens[~enc.kept] == 0).all()


def test_momentum_update_and_queue():
    model = pretrainer(ModelConfig(size="tiny"), queue_size=8, proj_dim=4)
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(1.0)
    before_k = [p.clone() for p in model.encoder_k.parameters()]
    model.momentum_update(0.9)
    for pk, old, pq in zip(model.encoder_k.parameters(), before_k, model.encoder_q.parameters()):
        torch.testing.assert_close(pk, 0.9 * old + 0.1 * pq)
    keys = torch.nn.functional.normalize(torch.randn(4, 4), dim=1)
    model.enqueue(keys)
    torch.testing.assert_close(model.queue[:, :4], keys.T)
    assert int(model.queue_ptr) == 4
    model.enqueue(keys * -1)
    assert int(model.queue_ptr) == 0  # wrapped: FIFO
    torch.testing.assert_close(model.queue[:, 4:], -keys.T)
    with pytest.raises(ValueError, match="multiple"):
        model.enqueue(torch.randn(3, 4))


def test_layer_norm_embeds_each_pose_on_its_own():
    """model.part_norm=layer: in training, a pose's part token does not depend on the other
    poses in the batch (batch norm's does: it normalises by the batch's signers)."""
    from masa.model.embedding import PartMLP

    torch.manual_seed(0)
    x = torch.rand(8, 21, 2)
    for norm, alone_equals_batched in (("layer", True), ("batch", False)):
        mlp = PartMLP(21, 16, dropout=0.0, norm=norm).train()
        assert torch.allclose(mlp(x[:2]), mlp(x)[:2], atol=1e-6) == alone_equals_batched
    with pytest.raises(ValueError, match="part_norm=layer needs model.part_embedding=mlp"):
        build_classifier(ModelConfig(size="tiny", part_embedding="gcn", part_norm="layer"), 5)


def test_hand_shape_reads_a_hand_the_same_wherever_and_however_large():
    """model.hand_shape: the part MLP also reads each hand centred on its wrist and scaled by
    its palm (wrist to middle knuckle), so a hand moved or resized reads the same; no hand
    reads 0; the classifier trains and infers with it; the graph network refuses it."""
    from masa.model.embedding import PartMLP, hand_shape

    torch.manual_seed(0)
    hands = torch.rand(2, 5, 21, 2) * 0.2 + 0.3
    resized_and_moved = (hands - 0.3) * 1.7 + 0.1
    torch.testing.assert_close(hand_shape(resized_and_moved), hand_shape(hands))
    torch.testing.assert_close(hand_shape(hands)[..., 9, :].norm(dim=-1), torch.ones(2, 5))
    assert not torch.allclose(hand_shape(hands * torch.tensor([1.0, 0.5])), hand_shape(hands))  # squashed: another shape
    assert hand_shape(torch.zeros(3, 21, 2)).eq(0).all()
    assert PartMLP(21, 16, shape=True).fc1.in_features == 21 * 4

    model = build_classifier(ModelConfig(size="tiny", part_embedding="mlp", part_norm="layer", hand_shape=True), 5)
    xy, present, valid, _ = poses()
    model(xy, present, valid).logsumexp(1).sum().backward()
    assert grads_missing(model) == []
    emb = model.encoder.embedding.eval()
    with torch.no_grad():
        gathered = emb(xy, valid, masked=torch.zeros(3, 14, 3, dtype=torch.bool), mask_token=torch.zeros(64))
        torch.testing.assert_close(emb(xy, valid), gathered, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="hand_shape needs model.part_embedding=mlp"):
        build_classifier(ModelConfig(size="tiny", part_embedding="gcn", hand_shape=True), 5)


def test_velocity_reads_the_step_to_the_next_frame_of_the_recording():
    """model.velocity: each joint also reads its step to the next frame that differs, so a clip
    sampled up by repeating frames reads the same steps as the clip itself; no step where a
    part is unseen or the clip ends; padding changes nothing; the classifier trains and infers
    with it; the graph network refuses it."""
    from masa.data.sampling import segment_positions
    from masa.model.velocity import SCALE, joint_velocity

    torch.manual_seed(0)
    native = torch.rand(1, 7, 49, 2)
    seen = torch.ones(1, 7, 3, dtype=torch.bool)
    steps = joint_velocity(native, seen)
    torch.testing.assert_close(steps[:, :-1], (native[:, 1:] - native[:, :-1]) * SCALE)
    assert steps[:, -1].eq(0).all()
    idx = torch.from_numpy(segment_positions(7, 32))  # every frame, each two to five times
    up = joint_velocity(native[:, idx], seen[:, idx])
    torch.testing.assert_close(up, steps[:, idx])
    hidden = seen.clone()
    hidden[0, 3, 1] = False  # the left hand unseen in frame 3: no step into it, none out of it
    gaps = joint_velocity(native, hidden)
    assert gaps[0, 2:4, 21:42].eq(0).all() and gaps[0, 4, 21:42].ne(0).all()
    torch.testing.assert_close(gaps[0, :, :21], steps[0, :, :21])

    cfg = ModelConfig(size="tiny", part_embedding="mlp", part_norm="layer", pool="frames", velocity=True)
    model = build_classifier(cfg, 5)
    xy, present, valid, _ = poses()
    model(xy, present, valid).logsumexp(1).sum().backward()
    assert grads_missing(model) == []
    assert model.encoder.embedding.hand.fc1.in_features == 21 * 4
    model.eval()
    with torch.no_grad():
        alone = model(xy[2:3, :5], present[2:3, :5], valid[2:3, :5])
        torch.testing.assert_close(alone, model(xy, present, valid)[2:3], atol=1e-5, rtol=1e-5)
        with_steps = torch.cat([xy, joint_velocity(xy, present & valid[..., None])], dim=-1)
        emb = model.encoder.embedding
        gathered = emb(with_steps, valid, masked=torch.zeros(3, 14, 3, dtype=torch.bool), mask_token=torch.zeros(64))
        torch.testing.assert_close(emb(with_steps, valid), gathered, atol=1e-5, rtol=1e-5)  # the dense path too
    with pytest.raises(ValueError, match="velocity needs model.part_embedding=mlp"):
        build_classifier(ModelConfig(size="tiny", part_embedding="gcn", velocity=True), 5)


@pytest.mark.parametrize("part, norm", [("gcn", "batch"), ("mlp", "batch"), ("mlp", "layer")])
def test_dense_inference_path_equals_the_gathered_one(part, norm):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(size="tiny", part_embedding=part, part_norm=norm), 5).eval()
    xy, present, valid, _ = poses()
    emb = model.encoder.embedding
    with torch.no_grad():
        dense = emb(xy, valid)  # eval and no mask: the dense path
        gathered = emb(xy, valid, masked=torch.zeros(3, 14, 3, dtype=torch.bool), mask_token=torch.zeros(64))
    torch.testing.assert_close(dense, gathered, atol=1e-5, rtol=1e-5)


def test_graph_conv_equals_the_linear_first_definition():
    from masa.model.embedding import GraphConv
    from masa.model.graph import hand_graph

    torch.manual_seed(0)
    A = hand_graph()
    conv = GraphConv(5, 7, A, residual="none").eval()
    x = torch.randn(3, 21, 5)
    K = A.shape[0]
    W = conv.weight.view(7, K, 5).permute(1, 0, 2)  # W_k[c, i]
    b = conv.bias.view(K, 7)
    per_kernel = torch.einsum("nvi,kci->nkvc", x, W) + b[None, :, None, :]  # W_k x_v + b_k
    spatial = torch.einsum("nkvc,kvw->nwc", per_kernel, A)
    expected = torch.relu(conv.bn2(conv.point(torch.relu(conv.bn1(spatial.reshape(-1, 7))).view(3, 21, 7)).reshape(-1, 7)).view(3, 21, 7))
    torch.testing.assert_close(conv(x), expected, atol=1e-5, rtol=1e-5)
