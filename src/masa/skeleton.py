"""The canonical 49-joint sign skeleton: right hand (21), left hand (21), upper body (7).

Every importer maps its estimator's joints onto these names; everything downstream
(normalisation, store, model) only ever sees this order.  Hand joints follow the
COCO-WholeBody / MediaPipe / OpenPose hand order: wrist; thumb 1-4; index 5-8;
middle 9-12; ring 13-16; little 17-20.
"""
from __future__ import annotations

HAND_JOINTS = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "little_mcp", "little_pip", "little_dip", "little_tip",
)
BODY_JOINTS = (
    "nose",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
)

JOINT_NAMES: tuple[str, ...] = (
    tuple(f"right_hand_{j}" for j in HAND_JOINTS)
    + tuple(f"left_hand_{j}" for j in HAND_JOINTS)
    + BODY_JOINTS
)
NUM_JOINTS = len(JOINT_NAMES)  # 49
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

# Slices of the three parts in the canonical order.
RIGHT_HAND = slice(0, 21)
LEFT_HAND = slice(21, 42)
BODY = slice(42, 49)
PARTS = {"right_hand": RIGHT_HAND, "left_hand": LEFT_HAND, "body": BODY}

# Arm joints (shoulder, elbow, wrist) in the canonical order, used by the hand-crop fallback.
RIGHT_ARM = (JOINT_INDEX["right_shoulder"], JOINT_INDEX["right_elbow"], JOINT_INDEX["right_wrist"])
LEFT_ARM = (JOINT_INDEX["left_shoulder"], JOINT_INDEX["left_elbow"], JOINT_INDEX["left_wrist"])


# --- Graphs (spec §4.1), indices local to each part -------------------------------------
def _finger_chains() -> list[tuple[int, int]]:
    edges = []
    for base in (1, 5, 9, 13, 17):
        chain = [0, base, base + 1, base + 2, base + 3]
        edges += list(zip(chain[:-1], chain[1:]))
    return edges


HAND_EDGES: tuple[tuple[int, int], ...] = tuple(_finger_chains())
# Corresponding joints of adjacent fingers (17-13, 13-9, 9-5, 5-1 and so on up to the tips).
HAND_SYMMETRIC: tuple[tuple[int, int], ...] = tuple(
    (a + d, b + d) for d in range(4) for a, b in ((17, 13), (13, 9), (9, 5), (5, 1))
)
HAND_CENTRE_DISTANCE = (0,) + (1, 2, 3, 4) * 5
# Part pooling: thumb, index, middle, ring, little, palm.
HAND_POOL_GROUPS = ((2, 3, 4), (6, 7, 8), (10, 11, 12), (14, 15, 16), (18, 19, 20), (0, 1, 5, 9, 13, 17))

BODY_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6))
BODY_SYMMETRIC: tuple[tuple[int, int], ...] = ((1, 4), (2, 5), (3, 6))
BODY_CENTRE_DISTANCE = (0, 1, 2, 3, 1, 2, 3)
# Part pooling: left arm, right arm, nose.
BODY_POOL_GROUPS = ((1, 2, 3), (4, 5, 6), (0,))

# Left/right permutations of the 49 joints: SWAP_HANDS exchanges only the hand slots (the
# hand-swap augmentation); SWAP_LEFT_RIGHT also exchanges the body's sides (a mirrored video).
SWAP_HANDS = tuple(range(21, 42)) + tuple(range(0, 21)) + tuple(range(42, 49))


def _swap_permutation() -> tuple[int, ...]:
    perm = list(SWAP_HANDS[:42])
    body = {n: JOINT_INDEX[n] for n in BODY_JOINTS}
    for n in BODY_JOINTS:
        other = n.replace("left", "@").replace("right", "left").replace("@", "right")
        perm.append(body[other])
    return tuple(perm)


SWAP_LEFT_RIGHT = _swap_permutation()
