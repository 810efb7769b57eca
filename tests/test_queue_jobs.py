"""The queue panel with jobs on several engines at once, and the controller's per-job cancel and
routing around a server that lacks a job's file (no server needed: the workers' events are the
panel's input; tests/test_remote_jobs.py runs the same with two real ComfyUI servers)."""

from __future__ import annotations

import pytest

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.ui.controller import LOCAL_ENGINE, GenerationController
from zimage_desktop.ui.queue_panel import QueuePanel
from zimage_desktop.ui.worker import JobCancelled, JobFinished, JobStarted, StepDone


def request(i: int) -> GenerationRequest:
    return GenerationRequest(prompt=f"job {i}", width=256, height=256, steps=8, seed=i)


@pytest.fixture
def panel(qtbot):
    controller = GenerationController()
    controller.set_engine_order({"gpu-a#1": 0, "gpu-b#1": 1, LOCAL_ENGINE: 2})
    queue = QueuePanel(controller)
    qtbot.addWidget(queue)
    queue.resize(360, 400)
    queue.show()
    return queue


def take(controller: GenerationController, engine: str):
    taken = controller.next_job_for(engine)
    assert taken is not None
    return taken


def test_each_running_job_has_its_own_line_server_progress_and_cancel(panel, qtbot):
    controller = panel.controller
    ids = [controller.submit(request(i)) for i in range(5)]
    (job_a, epoch_a), (job_b, epoch_b) = take(controller, "gpu-a#1"), take(controller, "gpu-b#1")
    assert (job_a.id, job_b.id) == (ids[0], ids[1])
    for job, engine, step in ((job_a, "gpu-a", 3), (job_b, "gpu-b", 5)):
        panel.on_worker_event(JobStarted(job.id, total=8, image_count=1, request=job.request, engine=engine))
        panel.on_worker_event(StepDone(job.id, step, 8, 0, 1, 4.0, None, seed=job.request.seed))
    assert panel.current.isVisible() and set(panel.rows) == {job_a.id, job_b.id}
    row_a, row_b = panel.rows[job_a.id], panel.rows[job_b.id]
    assert row_a.isVisible() and row_b.isVisible()
    assert row_a.label.toolTip() == "[gpu-a] job 0" and row_b.label.toolTip() == "[gpu-b] job 1"
    assert "step 3/8" in row_a.progress.text() and "step 5/8" in row_b.progress.text()
    assert row_a.progress.maximum() == row_b.progress.maximum() == 1000  # each its own bar (time-based)
    assert panel.list.count() == 3  # the waiting ones below
    # one job's own Cancel stops that job only
    qtbot.mouseClick(row_b.cancel, pytest.importorskip("PySide6.QtCore").Qt.MouseButton.LeftButton)
    assert controller.job_cancelled(epoch_b, job_b.id) and not controller.job_cancelled(epoch_a, job_a.id)
    assert row_b.progress.format() == "Cancelling…" and "step 3/8" in row_a.progress.text()
    panel.on_worker_event(JobCancelled(job_b.id, request=job_b.request))
    assert set(panel.rows) == {job_a.id} and not row_b.isVisible() and row_a.isVisible()
    # server b takes the next job: a third line beside a's
    job_c, _ = take(controller, "gpu-b#1")
    assert not controller.job_cancelled(_, job_c.id)  # the cancel was b's old job's alone
    panel.on_worker_event(JobStarted(job_c.id, total=8, image_count=1, request=job_c.request, engine="gpu-b"))
    assert [r.label.toolTip() for r in panel.rows.values()] == ["[gpu-a] job 0", "[gpu-b] job 2"]
    panel.on_worker_event(JobFinished(job_a.id, request=job_a.request))
    panel.on_worker_event(JobFinished(job_c.id, request=job_c.request))
    assert not panel.rows and not panel.current.isVisible()


def test_cancel_of_a_waiting_job_removes_it_and_cancel_all_marks_every_line(panel):
    controller = panel.controller
    ids = [controller.submit(request(i)) for i in range(3)]
    job_a, _ = take(controller, "gpu-a#1")
    panel.on_worker_event(JobStarted(job_a.id, total=8, image_count=1, request=job_a.request, engine="gpu-a"))
    panel.cancel_job(ids[2])
    assert [j.id for j in controller.queued()] == [ids[1]]
    panel.cancel_all.click()
    assert panel.rows[job_a.id].progress.format() == "Cancelling…" and not controller.queued()


def test_a_job_a_server_lacks_a_file_for_goes_to_the_next_engine_or_fails():
    controller = GenerationController()
    controller.set_engine_order({"gpu-a#1": 0, "gpu-b#1": 1})
    controller.submit(request(1))
    job, _ = take(controller, "gpu-a#1")
    assert controller.give_elsewhere(job, "gpu-a#1")
    controller._waiting |= {"gpu-a#1", "gpu-b#1"}  # both free, a first in the order: still b's job
    assert not controller._turn_of("gpu-a#1") and controller._turn_of("gpu-b#1")
    controller._waiting.clear()
    again, _ = take(controller, "gpu-b#1")
    assert again.id == job.id and again.avoid == {"gpu-a#1"}
    assert not controller.give_elsewhere(again, "gpu-b#1")  # no engine left that may have it
    assert not controller.queued()
