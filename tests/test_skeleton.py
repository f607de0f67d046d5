from masa import skeleton as sk


def test_49_named_joints_in_three_parts():
    assert sk.NUM_JOINTS == 49 and len(set(sk.JOINT_NAMES)) == 49
    assert sk.JOINT_NAMES[sk.RIGHT_HAND][0] == "right_hand_wrist"
    assert sk.JOINT_NAMES[sk.LEFT_HAND][20] == "left_hand_little_tip"
    assert sk.JOINT_NAMES[sk.BODY] == ("nose", "left_shoulder", "left_elbow", "left_wrist",
                                        "right_shoulder", "right_elbow", "right_wrist")
    assert sk.JOINT_NAMES[sk.RIGHT_HAND][5] == "right_hand_index_mcp"


def test_graphs_connect_every_joint():
    hand_nodes = {v for e in sk.HAND_EDGES for v in e}
    assert hand_nodes == set(range(21)) and len(sk.HAND_EDGES) == 20
    assert {v for e in sk.BODY_EDGES for v in e} == set(range(7))
    assert sorted(v for g in sk.HAND_POOL_GROUPS for v in g) == list(range(21))
    assert sorted(v for g in sk.BODY_POOL_GROUPS for v in g) == list(range(7))


def test_left_right_swap_is_an_involution():
    perm = sk.SWAP_LEFT_RIGHT
    assert sorted(perm) == list(range(49))
    assert all(perm[perm[i]] == i for i in range(49))
    ix = sk.JOINT_INDEX
    assert perm[ix["right_hand_wrist"]] == ix["left_hand_wrist"]
    assert perm[ix["left_elbow"]] == ix["right_elbow"] and perm[ix["nose"]] == ix["nose"]
