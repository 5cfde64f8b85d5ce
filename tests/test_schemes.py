from lmk.schemes import MAP_98_TO_68, SCHEMES


def test_flip_is_an_involution_that_swaps_eyes():
    for scheme in SCHEMES.values():
        perm = scheme.flip
        assert sorted(perm) == list(range(scheme.num_points))
        assert all(perm[perm[i]] == i for i in range(scheme.num_points))
    wflw = SCHEMES["wflw98"].flip
    assert wflw[60] == 72 and wflw[72] == 60  # outer eye corners
    assert {wflw[i] for i in range(60, 68)} == set(range(68, 76))  # left eye <-> right eye
    assert wflw[96] == 97 and wflw[57] == 57 and wflw[16] == 16 and wflw[0] == 32
    w300 = SCHEMES["300w68"].flip
    assert w300[36] == 45 and w300[30] == 30


def test_98_to_68_mapping():
    assert len(MAP_98_TO_68) == 68 and len(set(MAP_98_TO_68)) == 68
    assert MAP_98_TO_68[:3] == [0, 2, 4] and MAP_98_TO_68[16] == 32
    assert MAP_98_TO_68[36] == 60 and MAP_98_TO_68[45] == 72  # the normalising corners agree
    assert MAP_98_TO_68[48:] == list(range(76, 96))


def test_mapping_commutes_with_flip():
    f98, f68 = SCHEMES["wflw98"].flip, SCHEMES["300w68"].flip
    assert [MAP_98_TO_68[f68[j]] for j in range(68)] == [f98[MAP_98_TO_68[j]] for j in range(68)]
