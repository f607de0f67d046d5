"""finetune.mix: a batch mixed with a shuffled copy of itself, by blending poses (mixup) or
by a run of the partner's frames (cutmix in time), each sample told its own share."""
import pytest
import torch

from masa.inputs import PART_SLICES
from masa.train.mixing import mix_batch


def batch(B=6, T=10):
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(B, T, 49, 2, generator=g)
    present = torch.ones(B, T, 3, dtype=torch.bool)
    present[0, :, 1] = False  # sample 0 never shows its left hand
    valid = torch.ones(B, T, dtype=torch.bool)
    valid[1, 7:] = False  # sample 1 is 7 frames long
    xy[1, 7:] = 0
    present[1, 7:] = False
    return xy, present, valid


def test_mixup_blends_seen_parts_and_takes_a_part_only_one_shows_whole():
    torch.manual_seed(3)
    xy, present, valid = batch()
    out, seen, real, partner, keep = mix_batch(xy, present, valid, "mixup", 0.4)
    share = float(keep[0])
    assert 0 < share < 1 and keep.eq(share).all()  # one share per batch
    left = PART_SLICES[1]
    for i in range(len(xy)):
        j = int(partner[i])
        both = present[i, :, 1] & present[j, :, 1] & valid[i] & valid[j]
        mine = present[i, :, 1] & valid[i]
        expect = torch.where(both[:, None, None], share * xy[i, :, left] + (1 - share) * xy[j, :, left],
                             torch.where(mine[:, None, None], xy[i, :, left], xy[j, :, left]))
        torch.testing.assert_close(out[i, :, left], expect)
        assert torch.equal(seen[i], present[i] | present[j]) and torch.equal(real[i], valid[i] | valid[j])
    assert sorted(partner.tolist()) == list(range(len(xy)))


def test_cutmix_takes_one_run_of_the_partners_real_frames():
    torch.manual_seed(1)
    xy, present, valid = batch()
    out, seen, real, partner, keep = mix_batch(xy, present, valid, "cutmix", 1.0)
    assert torch.equal(real, valid)
    for i in range(len(xy)):
        j = int(partner[i])
        if j == i:  # its own partner: nothing changes, and either share is its own label
            assert torch.equal(out[i], xy[i])
            continue
        theirs = (out[i] == xy[j]).all(-1).all(-1) & (out[i] != xy[i]).any(-1).any(-1)  # (T,)
        where = theirs.nonzero().flatten()
        if len(where):  # one run of frames, all real in both samples
            assert where.tolist() == list(range(int(where[0]), int(where[-1]) + 1))
            assert (valid[i, where] & valid[j, where]).all()
            assert torch.equal(seen[i, where], present[j, where])
        assert keep[i] == pytest.approx(1 - len(where) / int(valid[i].sum()))
        assert torch.equal(out[i][~theirs], xy[i][~theirs]) and torch.equal(seen[i][~theirs], present[i][~theirs])
    assert (keep < 1).any()


def test_an_unknown_mix_is_refused():
    with pytest.raises(ValueError, match="unknown finetune.mix 'blend'"):
        mix_batch(*batch(), "blend", 0.2)


def test_the_mixed_loss_splits_by_each_samples_own_share():
    import torch.nn.functional as F

    from masa.train.mixing import mixed_cross_entropy

    logits, labels = torch.randn(4, 5, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3])
    partner, keep = torch.tensor([1, 0, 3, 2]), torch.tensor([1.0, 0.25, 0.5, 0.0])
    per = F.cross_entropy(logits, labels, reduction="none")
    theirs = F.cross_entropy(logits, labels[partner], reduction="none")  # its own logits, the partner's label
    expect = (keep * per + (1 - keep) * theirs).mean()
    torch.testing.assert_close(mixed_cross_entropy(logits, labels, partner, keep), expect)
    torch.testing.assert_close(mixed_cross_entropy(logits, labels, partner, torch.ones(4)), F.cross_entropy(logits, labels))


def test_a_mixed_sample_counts_as_a_hit_for_the_label_with_the_larger_share():
    """The train top-1 of a mixed batch: against the own label alone, a clip that is three
    quarters its partner's would read as a miss when the model names the partner's sign."""
    from masa.train.mixing import dominant_labels

    labels, partner = torch.tensor([0, 1, 2, 3]), torch.tensor([1, 0, 3, 2])
    keep = torch.tensor([1.0, 0.25, 0.5, 0.0])
    assert dominant_labels(labels, partner, keep).tolist() == [0, 0, 2, 2]
