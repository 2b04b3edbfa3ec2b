"""guestagent.publishjobs: publishes in threads, joins, and outcomes that outlive the process."""

import json
import subprocess
import sys
import threading

import pytest

from guestagent.publishjobs import PublishJobs
from logsvc.exceptions import LogBusy, StateError, StorageUnavailable
from logsvc.logmodel import PublishState

PUBLISH = frozenset({"publish"})


def test_a_publish_runs_in_its_thread_and_its_outcome_is_kept(tmp_path):
    ended = threading.Event()
    jobs = PublishJobs(str(tmp_path), on_end=ended.set)
    go = threading.Event()
    job = jobs.start_or_join("general", PUBLISH, lambda: go.wait(30))
    assert not job.done.wait(0) and jobs.outcome("general").state is PublishState.RUNNING
    assert json.loads((tmp_path / "general.publish").read_text())["state"] == "running"
    # the same publish is joined; one that asks for more, refused at once
    assert jobs.start_or_join("general", PUBLISH, lambda: None) is job
    with pytest.raises(LogBusy, match="being published"):
        jobs.start_or_join("general", PUBLISH | {"discard"}, lambda: None)
    go.set()
    assert job.done.wait(30) and ended.wait(30)
    outcome = jobs.outcome("general")
    assert (outcome.id, outcome.state, outcome.error) == (
        job.outcome.id,
        PublishState.PUBLISHED,
        None,
    )
    assert outcome.ended_at and jobs.running("general") is None
    # a new process (another PublishJobs) reads the same outcome
    assert PublishJobs(str(tmp_path)).outcome("general") == outcome


def test_a_failure_is_the_outcome_with_the_error(tmp_path):
    jobs = PublishJobs(str(tmp_path))

    def fail():
        raise StorageUnavailable("Swift at x is unreachable")

    job = jobs.start_or_join("general", PUBLISH, fail)
    assert job.done.wait(30)
    assert isinstance(job.error, StorageUnavailable)
    outcome = jobs.outcome("general")
    assert outcome.state is PublishState.FAILED and outcome.error == "Swift at x is unreachable"


def test_a_running_outcome_whose_process_is_gone_is_a_failure(tmp_path):
    # Written by a process that has exited since (an agent killed mid-publish).
    code = (
        "import threading, sys\n"
        "from guestagent.publishjobs import PublishJobs\n"
        f"jobs = PublishJobs({str(tmp_path)!r})\n"
        "jobs.start_or_join('general', frozenset({'publish'}), threading.Event().wait)\n"
        "print('started', flush=True)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
    assert json.loads((tmp_path / "general.publish").read_text())["state"] == "running"
    outcome = PublishJobs(str(tmp_path)).outcome("general")
    assert outcome.state is PublishState.FAILED
    assert "stopped during the publish" in outcome.error


def test_no_outcome_before_the_first_publish(tmp_path):
    assert PublishJobs(str(tmp_path)).outcome("general") is None


def test_reads_do_not_wait_while_a_publish_records_its_start(tmp_path, monkeypatch):
    """Shows and lists read the running publish under the jobs' lock: recording the
    start (a file written and synced, seconds behind a busy disk) happens outside it."""
    jobs = PublishJobs(str(tmp_path))
    saving, disk = threading.Event(), threading.Event()
    save = jobs._save

    def slow_save(log, outcome):
        saving.set()
        assert disk.wait(30)
        save(log, outcome)

    monkeypatch.setattr(jobs, "_save", slow_save)
    started: list = []
    starter = threading.Thread(
        target=lambda: started.append(jobs.start_or_join("general", PUBLISH, lambda: None))
    )
    starter.start()
    try:
        assert saving.wait(30)
        reader = threading.Thread(target=lambda: jobs.outcome("general"))
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "a read waited for the publish's start to be written"
        assert jobs.outcome("general").state is PublishState.RUNNING
    finally:
        disk.set()
        starter.join(30)
    assert started and started[0].done.wait(30)


def test_a_start_that_cannot_be_recorded_fails_the_publish_and_those_who_joined(
    tmp_path, monkeypatch
):
    jobs = PublishJobs(str(tmp_path))
    saving, disk = threading.Event(), threading.Event()
    ran: list = []

    def failing_save(log, outcome):
        if outcome.state is PublishState.RUNNING:
            saving.set()
            assert disk.wait(30)
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "_save", failing_save)
    errors: list = []

    def start():
        try:
            jobs.start_or_join("general", PUBLISH, lambda: ran.append(1))
        except StateError as exc:
            errors.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    assert saving.wait(30)
    joined = jobs.start_or_join("general", PUBLISH, lambda: ran.append(2))  # joins it
    disk.set()
    starter.join(30)
    assert joined.done.wait(30) and isinstance(joined.error, StateError)
    assert "No space left on device" in errors[0].message and not ran
    assert jobs.running("general") is None  # free for the next publish
    monkeypatch.undo()
    assert jobs.start_or_join("general", PUBLISH, lambda: ran.append(3)).done.wait(30)
    assert ran == [3]
