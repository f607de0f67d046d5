"""`masa show`: a sign as a skeleton animation (GIF), the way people debug data.

Three panels: the body with its arms, and each hand enlarged in its own crop box (the
coordinates the model sees). Joints fade with their confidence; joints under eps_c are
hidden. With `masks`, a timeline under the panels marks, per strategy and part, the frames
the MA masking would hide, and the current frame.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from masa import pretext
from masa import skeleton as sk
from masa.config import NormaliseConfig, PretextConfig

PART_COLOURS = {"right hand": "tab:red", "left hand": "tab:blue", "body": "tab:green"}


def load_frames(target: str, fmt: str | None = None, image_size=None, norm: NormaliseConfig | None = None
                ) -> tuple[np.ndarray, str]:
    """'STORE:SAMPLE' (id or index) or a pose file -> (frames (T, 49, 3) after eps_c, title)."""
    from masa.data.store import PoseStore
    from masa.poses import ImportOptions, read_pose
    from masa.poses.normalise import normalise, prepare_frames

    norm = norm or NormaliseConfig()
    store_path, _, sample = target.rpartition(":")
    if store_path and (Path(store_path) / "meta.json").exists():
        store = PoseStore(store_path)
        index = int(sample) if sample.isdigit() and sample not in store.ids else store.find(sample)
        frames, label = store[index]
        title = store.ids[index] + (f" ({store.classes[label]})" if 0 <= label < len(store.classes) else "")
    else:
        frames, _ = normalise(read_pose(target, fmt, ImportOptions(image_size=image_size)), norm)
        title = Path(target).name
    if len(frames) == 0:
        raise ValueError(f"{target}: no frame in which a hand was found")
    return prepare_frames(frames, norm), title


def strategy_masks(frames: np.ndarray, cfg: PretextConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """(T, 49, 3) -> {strategy: (T, 3) bool} as the pre-training step would mask this sample."""
    xy = torch.from_numpy(frames[None, ..., :2])
    conf = torch.from_numpy(frames[None, ..., 2])
    valid = torch.ones(1, len(frames), dtype=torch.bool)
    m, w = pretext.motion_residuals(xy, conf, valid, cfg.interval)
    out = {}
    for name in pretext.MASKINGS:
        g = torch.Generator().manual_seed(seed)
        out[name] = pretext.ma_mask(m, w, valid, replace(cfg, strategy=name), g)[0].numpy()
    return out


def render_gif(frames: np.ndarray, out: Path | str, title: str = "", masks: dict | None = None, fps: int = 12):
    if Path(out).suffix.lower() != ".gif":
        raise ValueError(f"--out {out}: masa show writes GIF animations only; give a name ending in .gif")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    T = len(frames)
    rows = 2 if masks else 1
    fig = plt.figure(figsize=(9, 4.2 if masks else 3.4))
    grid = fig.add_gridspec(rows, 3, height_ratios=[3, 1.3][:rows])
    axes = [fig.add_subplot(grid[0, i]) for i in range(3)]
    panels = (("body", sk.BODY, sk.BODY_EDGES), ("right hand", sk.RIGHT_HAND, sk.HAND_EDGES), ("left hand", sk.LEFT_HAND, sk.HAND_EDGES))
    for ax, (name, _, _) in zip(axes, panels):
        ax.set_xlim(0, 256)
        ax.set_ylim(256, 0)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name, color=PART_COLOURS[name], fontsize=10)
    cursor = None
    if masks:
        tl = fig.add_subplot(grid[1, :])
        labels = []
        for r, (strategy, m) in enumerate(masks.items()):
            for p, part in enumerate(PART_COLOURS):
                y = r * 3 + p
                hidden = np.nonzero(m[:, p])[0]
                tl.scatter(hidden, np.full(len(hidden), y), marker="s", s=12, color=PART_COLOURS[part])
                labels.append(f"{strategy} {part.split()[0]}")
        tl.set_yticks(range(len(labels)), labels, fontsize=6)
        tl.set_xlim(-0.5, T - 0.5)
        tl.set_ylim(len(labels) - 0.5, -0.5)
        tl.set_xlabel("frame (squares: masked)", fontsize=8)
        cursor = tl.axvline(0, color="k", lw=1)
    fig.suptitle(title, fontsize=10)
    artists = []
    for ax, (name, part, edges) in zip(axes, panels):
        lines = [ax.plot([], [], color=PART_COLOURS[name], lw=1.5)[0] for _ in edges]
        dots = ax.scatter([], [], s=10)
        artists.append((part, edges, lines, dots, matplotlib.colors.to_rgb(PART_COLOURS[name])))

    def draw(t):
        xy, conf = frames[t, :, :2], frames[t, :, 2]
        for part, edges, lines, dots, rgb in artists:
            p_xy, p_c = xy[part], conf[part]
            for line, (a, b) in zip(lines, edges):
                seen = p_c[a] > 0 and p_c[b] > 0
                line.set_data(*(zip(p_xy[a], p_xy[b]) if seen else ([], [])))
                line.set_alpha(float(min(p_c[a], p_c[b])) if seen else 0)
            shown = p_c > 0
            dots.set_offsets(p_xy[shown] if shown.any() else np.empty((0, 2)))
            dots.set_color([(*rgb, float(c)) for c in p_c[shown]])  # faded by confidence
        if cursor is not None:
            cursor.set_xdata([t, t])
        return []

    anim = FuncAnimation(fig, draw, frames=T, blit=False)
    anim.save(str(out), writer=PillowWriter(fps=fps))
    plt.close(fig)
    return Path(out)
