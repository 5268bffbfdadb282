"""Build-time configuration: validation messages, derived sizes, signature, constants."""
import pytest

from sw import random_model
from soc.accel.config import AccelConfig, ConfigError


def test_validation_names_the_bad_value():
    m = random_model.make("1x6x6-4c3p1-3fc", 0.5, seed=1)
    with pytest.raises(ConfigError, match="PCo=5"):
        AccelConfig.from_model(m, [(5, 9), (1, 8)])
    with pytest.raises(ConfigError, match="PCi=0"):
        AccelConfig.from_model(m, [(2, 0), (1, 8)])
    with pytest.raises(ConfigError, match="2 layers"):
        AccelConfig.from_model(m, [(2, 9)])


def test_derived_sizes_and_signature():
    m = random_model.make("1x6x6-4c3p1-3fc", 0.5, seed=1)
    a = AccelConfig.from_model(m, [(3, 5), (2, 8)])
    l0 = a.layers[0]
    assert (l0.groups, l0.chunks, l0.chunk_depth, l0.planes, l0.static) == (2, 2, 4, 8, True)
    assert l0.buffer_depth >= (3 - 1) * 6 + 3
    assert a.frame_words == 9 and a.result_words == 4
    b = AccelConfig.from_model(m, [(3, 5), (1, 8)])
    assert a.signature != b.signature
    assert AccelConfig.from_model(m, [(3, 5), (2, 8)]).signature == a.signature
    c = a.constants()
    assert c["ACCEL_SIGNATURE"] == a.signature and c["ACCEL_L1_PCO"] == 2
    assert c["ACCEL_LOAD_WORDS"] == a.load_words()
