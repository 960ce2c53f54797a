"""The collector pause is shared by nested and concurrent calls and restores what it found."""
import gc
import threading

from firewall.collector import collector_paused


def test_nested_pauses_end_with_the_outermost_and_restore_the_collector():
    assert gc.isenabled()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()              # the inner end does not re-enable under the outer call
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_calls_share_one_pause():
    inside, release = threading.Event(), threading.Event()

    def other():
        with collector_paused():
            inside.set()
            release.wait(5)
    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with collector_paused():
        pass
    assert not gc.isenabled()                  # the other call still holds the pause
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_an_exception_inside_still_restores_the_collector():
    try:
        with collector_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
