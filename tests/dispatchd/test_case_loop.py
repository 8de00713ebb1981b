"""The case loop step by step: what each transition changes and what it leaves on the timeline."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatchd import workflow
from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput, NotAllowed
from dispatchd.models import Attachment, CaseStatus
from tests.dispatchd.helpers import act, case_in, report, snapshot

S = CaseStatus


def timeline(case) -> list[tuple[str, str, str]]:
    """(action, from, to) of every timeline entry, oldest first."""
    return list(case.timeline.values_list("action", "from_status", "to_status"))


def attach(case, name: str = "after.jpg") -> Attachment:
    """A photo attached to `case` by its worker."""
    photo = SimpleUploadedFile(name, b"\xff\xd8\xff\xe0 photo", content_type="image/jpeg")
    return workflow.attach(case, Actor("W1", "worker", case.worker_id), name, "image/jpeg", photo)


def test_full_loop_leaves_one_timeline_entry_per_transition_and_publishes_each(city, events):
    worker = city.worker_actor(1)
    with events.committing():
        case = report(city)
        for name, params, actor in [
            ("accept", {}, None),
            ("register", {"severity": "high"}, None),
            ("dispatch", {"worker": city.workers[1].id}, None),
            ("handle", {}, worker),
            ("feedback", {"note": "已清理"}, worker),
            ("verify", {"note": "现场核查通过"}, None),
            ("close", {}, None),
            ("evaluate", {"score": 5}, None),
        ]:
            case = act(city, case, name, actor, **params)

    assert case.status == S.EVALUATED and case.evaluation == 5 and case.severity == "high"
    assert case.closed_at is not None
    assert timeline(case) == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("register", "accepted", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("handle", "dispatched", "handling"),
        ("feedback", "handling", "feedback"),
        ("verify", "feedback", "verified"),
        ("close", "verified", "closed"),
        ("evaluate", "closed", "evaluated"),
    ]
    actors = list(case.timeline.values_list("actor", flat=True))
    assert actors[4:6] == ["worker:W1", "worker:W1"] and actors[1] == "commander:duty1"
    assert events.types() == [
        "case.created", "case.accept", "case.register", "case.dispatch", "case.handle",
        "case.feedback", "case.verify", "case.close", "case.evaluate",
    ]
    assert events.data("case.evaluate")[0]["status"] == "evaluated"


def test_void_needs_a_reason_and_ends_the_case(city):
    case = report(city)
    before = snapshot(case)
    with pytest.raises(InvalidInput):
        act(city, case, "void")
    assert snapshot(case) == before
    case = act(city, case, "void", note="重复来电")
    assert case.status == S.VOIDED and case.sla_state == "none" and case.deadline is None


def test_dispatch_to_a_department_with_assisting_departments_is_co_handling(city):
    case = case_in(city, S.REGISTERED)
    main, assist = city.departments["ROAD"], [city.departments["LAW"].id, city.departments["GAS"].id]
    case = act(city, case, "dispatch", department=main.id, assist_departments=assist)
    assert case.department_id == main.id and case.worker_id is None and case.dispatch_level == 1
    assert sorted(case.assist_departments.values_list("id", flat=True)) == sorted(assist)
    assert case.timeline.last().data["assist_departments"] == assist


def test_main_department_cannot_also_assist(city):
    case = case_in(city, S.REGISTERED)
    before = snapshot(case)
    with pytest.raises(InvalidInput):
        act(city, case, "dispatch", department=city.departments["ROAD"].id,
            assist_departments=[city.departments["ROAD"].id])
    assert snapshot(case) == before


def test_dispatch_to_a_worker_hands_it_to_the_workers_department(city):
    case = case_in(city, S.REGISTERED)
    worker = city.workers[2]
    case = act(city, case, "dispatch", worker=worker.id)
    assert (case.worker_id, case.department_id) == (worker.id, worker.department_id)


def test_redispatch_passes_the_case_down_one_level_at_a_time(city):
    case = case_in(city, S.HANDLING)
    case = act(city, case, "redispatch", department=city.departments["ENV1"].id, note="转环卫一班")
    assert (case.status, case.dispatch_level, case.department_id) == (S.DISPATCHED, 2, city.departments["ENV1"].id)
    case = act(city, case, "redispatch", worker=city.workers[3].id)
    assert (case.dispatch_level, case.worker_id) == (3, city.workers[3].id)
    assert [e.data["level"] for e in case.timeline.filter(action="redispatch")] == [2, 3]


def test_redispatch_must_name_a_unit_or_a_worker(city):
    case = case_in(city, S.DISPATCHED)
    with pytest.raises(InvalidInput):
        act(city, case, "redispatch")


def test_feedback_carries_its_photos(city):
    case = case_in(city, S.HANDLING)
    photos = [attach(case, "a.jpg").id, attach(case, "b.jpg").id]
    case = act(city, case, "feedback", city.worker_actor(1), note="已处置", attachments=photos)
    assert case.status == S.FEEDBACK
    assert case.timeline.last().data == {"attachments": photos}
    assert [e.data["attachment"] for e in case.timeline.filter(action="attach")] == photos


def test_feedback_refuses_attachments_of_another_case(city):
    other = case_in(city, S.HANDLING)
    case = case_in(city, S.HANDLING)
    before = snapshot(case)
    with pytest.raises(InvalidInput):
        act(city, case, "feedback", note="已处置", attachments=[attach(other).id])
    assert snapshot(case) == before


def test_failed_verification_sends_the_case_back_as_rework(city):
    case = case_in(city, S.FEEDBACK)
    case = act(city, case, "verify", passed=False, note="未清理干净")
    assert (case.status, case.rework_count, case.stage) == (S.DISPATCHED, 1, "handle")
    assert case.timeline.last().data == {"passed": False, "rework": True}


def test_rework_after_verification_reopens_handling(city):
    case = case_in(city, S.VERIFIED)
    case = act(city, case, "rework", note="群众再次投诉")
    assert (case.status, case.rework_count) == (S.DISPATCHED, 1)


def test_quick_close_from_feedback_is_marked_quick(city):
    case = act(city, case_in(city, S.FEEDBACK), "close", note="快速结案")
    assert case.status == S.CLOSED and case.timeline.last().data == {"quick": True}


@pytest.mark.parametrize("score", [0, 6, "5", True, None])
def test_evaluation_is_a_score_from_1_to_5(city, score):
    case = case_in(city, S.CLOSED)
    with pytest.raises(InvalidInput):
        act(city, case, "evaluate", score=score)


def test_return_takes_the_case_back_to_the_command_centre(city):
    case = case_in(city, S.REGISTERED)
    case = act(city, case, "dispatch", worker=city.workers[1].id, assist_departments=[city.departments["LAW"].id])
    case = act(city, case, "return", city.worker_actor(1), note="不属于本部门")
    assert (case.status, case.worker_id, case.dispatch_level) == (S.REGISTERED, None, 0)
    assert case.assist_departments.count() == 0 and case.stage == "dispatch"


def test_extension_request_then_reject(city):
    case = act(city, case_in(city, S.HANDLING), "extend_request", city.worker_actor(1), hours=4, note="等材料")
    assert case.extension_pending_hours == 4
    case = act(city, case, "extend_reject", note="不予延期")
    assert case.extension_pending_hours is None and case.status == S.HANDLING
    assert [e.action for e in case.timeline.all()][-2:] == ["extend_request", "extend_reject"]


def test_a_second_extension_request_waits_for_the_first(city):
    case = act(city, case_in(city, S.HANDLING), "extend_request", hours=4, note="等材料")
    with pytest.raises(Exception, match="already pending"):
        act(city, case, "extend_request", hours=2, note="再等等")


def test_approve_or_reject_needs_a_pending_request(city):
    case = case_in(city, S.HANDLING)
    for name in ("extend_approve", "extend_reject"):
        with pytest.raises(Exception, match="no extension request"):
            act(city, case, name, note="x")


def test_a_pending_extension_lapses_when_the_case_leaves_the_handlers(city):
    case = act(city, case_in(city, S.HANDLING), "extend_request", hours=4, note="等材料")
    case = act(city, case, "feedback", note="提前完成")
    assert case.extension_pending_hours is None
    case = act(city, case, "rework", note="返工")
    with pytest.raises(Exception, match="no extension request"):
        act(city, case, "extend_approve")


def test_suspend_and_resume_return_to_the_status_before(city):
    case = case_in(city, S.HANDLING)
    case = act(city, case, "suspend", note="等待审批")
    assert (case.status, case.status_before_suspend) == (S.SUSPENDED, S.HANDLING)
    case = act(city, case, "resume")
    assert (case.status, case.status_before_suspend) == (S.HANDLING, "")


def test_supervise_counts_and_keeps_the_status(city):
    case = case_in(city, S.HANDLING)
    case = act(city, act(city, case, "supervise", note="督办"), "supervise", note="再次督办")
    assert (case.status, case.supervise_count) == (S.HANDLING, 2)
    assert [e.data["count"] for e in case.timeline.filter(action="supervise")] == [1, 2]


def test_workers_act_only_on_their_own_cases(city):
    case = case_in(city, S.DISPATCHED)  # assigned to worker 1
    before = snapshot(case)
    with pytest.raises(NotAllowed):
        act(city, case, "handle", city.worker_actor(2))
    assert snapshot(case) == before
    assert act(city, case, "handle", city.worker_actor(1)).status == S.HANDLING


def test_workers_may_not_take_command_actions(city):
    case = case_in(city, S.FEEDBACK)
    with pytest.raises(NotAllowed):
        act(city, case, "close", city.worker_actor(1))
