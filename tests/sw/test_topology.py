import pytest

from sw.topology import PRESETS, TopologyError, notation, parse


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip(name):
    layers = parse(name)
    assert notation(layers) == PRESETS[name]
    assert layers[-1].readout and not any(l.readout for l in layers[:-1])


def test_scnn5_shapes():
    l = parse("scnn5")
    assert [x.out_shape for x in l] == [(8, 28, 28), (16, 14, 14), (32, 7, 7), (64, 7, 7), (64, 3, 3),
                                        (10, 1, 1)]
    assert l[-1].kh == 3 and l[-1].fan_in == 576


def test_stride_and_rect_kernels():
    l = parse("2x9x9-4c3s2p1-3c2x3-5fc")
    assert l[0].out_shape == (4, 5, 5) and l[1].out_shape == (3, 4, 3)


@pytest.mark.parametrize("bad,msg", [
    ("28x28-8c3-10fc", "must start with the input shape"),
    ("1x28x28-8c3p1-mp2-mp2-10fc", "'mp2' must follow a conv layer"),
    ("1x28x28-8k3-10fc", "unknown token '8k3'"),
    ("1x28x28-8c3p1", "the last layer must be the fc readout"),
    ("1x4x4-8c7-10fc", "larger than input"),
    ("1x4x4-8c3p3-10fc", "padding 3"),
    ("1x4x4-0c3-10fc", "co=0"),
    ("1x4x4-10fc-mp2", "'mp2' must follow a conv layer"),
    ("1x3x3-2c3-mp2-2fc", "mp2 over a 1x1 map"),
])
def test_errors_name_the_problem(bad, msg):
    with pytest.raises(TopologyError, match=msg.replace("(", r"\(")):
        parse(bad)
