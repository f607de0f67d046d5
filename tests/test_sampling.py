import numpy as np

from masa.data.sampling import crop_resize, eval_clips, sample_clip, segment_positions, swap_hands


def frames(T=50):
    f = np.zeros((T, 49, 3), np.float32)
    f[..., 0] = np.arange(T)[:, None]
    f[..., 2] = 1.0
    return f


def test_segments_cover_the_whole_sign():
    pos = segment_positions(100, 10)
    assert pos.tolist() == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]  # centres: deterministic
    rnd = segment_positions(100, 10, np.random.default_rng(0))
    assert ((rnd >= np.arange(0, 100, 10)) & (rnd < np.arange(10, 101, 10))).all()
    short = segment_positions(5, 8)
    assert short.min() == 0 and short.max() == 4 and (np.diff(short) >= 0).all()  # frames repeat


def test_test_time_sampling_is_deterministic_and_multi_clip():
    f = frames()
    a, b = eval_clips(f, 8, "segments"), eval_clips(f, 8, "segments")
    np.testing.assert_array_equal(a, b)
    many = eval_clips(f, 8, "segments", clips=3)
    assert many.shape == (3, 8, 49, 3)
    assert (many[0, :, 0, 0] < many[2, :, 0, 0]).all()  # shifted within the segments
    r1 = sample_clip(f, 8, "segments", np.random.default_rng(1))
    r2 = sample_clip(f, 8, "segments", np.random.default_rng(2))
    assert not np.array_equal(r1, r2)


def test_crop_resize():
    f = frames(100)
    test = crop_resize(f, 10)
    assert test.shape == (10, 49, 3)
    assert test[0, 0, 0] == 2 and test[-1, 0, 0] == 97  # 2.5 % dropped at each end
    np.testing.assert_allclose(np.diff(test[:, 0, 0]), 95 / 9, rtol=1e-5)  # linear interpolation
    train = crop_resize(f, 10, np.random.default_rng(0))
    assert train[-1, 0, 0] - train[0, 0, 0] >= 63 - 1e-4  # at least min_len frames


def test_swap_hands():
    f = frames(3)
    f[:, :21, 1], f[:, 21:42, 1] = 1, 2
    s = swap_hands(f)
    assert (s[:, :21, 1] == 2).all() and (s[:, 21:42, 1] == 1).all()
    np.testing.assert_array_equal(s[:, 42:], f[:, 42:])
