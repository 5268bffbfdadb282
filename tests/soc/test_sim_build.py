"""soc.sim_build.STOP: a stop signal that Python drops inside a finalizer is raised again by check()."""
import gc
import signal

import pytest

from soc import sim_build


class _Finalized:
    def __del__(self):
        sim_build.STOP(signal.SIGINT)          # as if the signal arrived while a finalizer ran


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stop_dropped_in_a_finalizer_is_raised_again():
    sim_build.STOP.clear()
    try:
        with pytest.raises(sim_build.Stopped) as first:
            sim_build.STOP(signal.SIGTERM)
        assert first.value.signum == signal.SIGTERM and isinstance(first.value, KeyboardInterrupt)
        sim_build.STOP.clear()
        _Finalized()                            # Python prints "Exception ignored in ..." and goes on
        gc.collect()
        with pytest.raises(sim_build.Stopped) as again:
            sim_build.STOP.check()
        assert again.value.signum == signal.SIGINT
    finally:
        sim_build.STOP.clear()
    sim_build.STOP.check()                      # cleared: nothing to raise
