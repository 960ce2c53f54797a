"""Exactly one process runs the background duties; another takes over when it goes."""
import subprocess
import sys
import textwrap

from hardening.jobs.background import Leader


def test_second_leader_in_another_process_waits_until_the_first_goes(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(__import__('pathlib').Path.cwd())!r})
        from hardening.jobs.background import Leader
        leader = Leader({str(tmp_path)!r}, [])
        assert leader.try_lead()
        print("leading", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "leading"
        ran = []
        follower = Leader(str(tmp_path), [lambda: ran.append(1)])
        assert not follower.try_lead()
        holder.kill()
        holder.wait()
        assert follower.try_lead()
        follower.run_once()
        assert ran == [1]
        assert (tmp_path / "background.lock").read_text().strip().isdigit()
    finally:
        holder.kill()


def test_a_failing_duty_does_not_stop_the_others(tmp_path):
    ran = []

    def broken():
        raise RuntimeError("boom")
    Leader(str(tmp_path), [broken, lambda: ran.append("ok")]).run_once()
    assert ran == ["ok"]
