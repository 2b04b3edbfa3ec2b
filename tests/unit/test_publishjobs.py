"""guestagent.publishjobs: publishes in threads, joins, and outcomes that outlive the process."""

import json
import subprocess
import sys
import threading

import pytest

from guestagent.publishjobs import PublishJobs
from logsvc.exceptions import LogBusy, StorageUnavailable
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
