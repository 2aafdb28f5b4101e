"""Paraphrase families of the template teacher: per category, several ways of asking the same thing.

A family is one question template. Its slots say what it needs from a document chunk:

* ``{dev}``: a machine as the chunk names it (its id, model or name: "tunnel-1", "the CT-24");
* ``{code}``: a fault code in the chunk; ``{sensor}``: a sensor the chunk names ("air temperature");
* ``{span}`` / ``{days}``: a telemetry window / log window (drawn by the teacher, stated in words);
* ``{a_priority}``, ``{priority}``, ``{priority_word}``: the work order's priority in words;
* ``{issue}``: what is wrong (the fault code and its meaning when the chunk has one);
* ``{term}``: a term the chunk defines; ``{rule}`` (not in the text): a safety sentence of the chunk.

Families differ in register (terse operator, formal engineer, worried newcomer) and in word order, so a
model trained on some must generalise to the held-out rest (:func:`~.teacher.heldout_families`).
Not covered: filling the slots (:mod:`.teacher`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TEMPLATES", "Family"]


@dataclass(frozen=True)
class Family:
    """One question template of a category."""

    id: str
    """``category/name``, unique over all categories."""
    template: str
    rule: str | None = None
    """For ``no_tool`` refusals: the kind of safety sentence the chunk must hold ("guard" or "lock")."""
    refusal: str | None = None
    """For refusals: what the user asked to do, as the answer names it."""


def _f(category: str, name: str, template: str, **extra: str) -> Family:
    return Family(f"{category}/{name}", template, **extra)


TEMPLATES: dict[str, tuple[Family, ...]] = {
    "status": (
        _f("status", "plain", "Which machines are running right now, and is {dev} one of them?"),
        _f("status", "alarm", "Are any machines in alarm at the moment? I'm mostly worried about {dev}."),
        _f("status", "terse", "line status? {dev} ok?"),
        _f("status", "handover", "I'm taking over the shift. Give me the state of every machine, starting with {dev}."),
        _f("status", "formal", "Please report the current status of all production equipment, including {dev}."),
        _f("status", "flag", "List the devices on line 1 and flag any with active alarms. Is {dev} clear?"),
        _f("status", "hmi", "The HMI is full of alarms. Which machines are actually in alarm? Is it {dev}?"),
    ),
    "live_reading": (
        _f("live_reading", "plain", "What has the {sensor} on {dev} been over the last {span}?"),
        _f("live_reading", "trend", "Show me the {sensor} trend for {dev}, last {span}."),
        _f("live_reading", "terse", "{dev} {sensor}, last {span}?"),
        _f("live_reading", "all", "Pull every sensor reading for {dev} from the last {span}."),
        _f("live_reading", "uneasy", "Something feels off with {dev}. Can you get me its readings for the past "
                                     "{span}?"),
        _f("live_reading", "formal", "Please retrieve the {sensor} telemetry of {dev} for the previous {span}."),
        _f("live_reading", "steady", "Is the {sensor} on {dev} steady? Check the last {span}."),
    ),
    "fault_code_meaning": (
        _f("fault_code_meaning", "plain", "What does fault code {code} mean?"),
        _f("fault_code_meaning", "screen", "{code} just came up on the screen. What is it?"),
        _f("fault_code_meaning", "device", "{dev} is showing {code}. What does that code mean?"),
        _f("fault_code_meaning", "severity", "How serious is {code}, and what does it indicate?"),
        _f("fault_code_meaning", "terse", "meaning of {code}?"),
        _f("fault_code_meaning", "formal", "Could you explain the alarm {code} on {dev}?"),
        _f("fault_code_meaning", "newcomer", "I'm new here. What's a {code} alarm?"),
    ),
    "troubleshooting": (
        _f("troubleshooting", "plain", "How do I troubleshoot {code}?"),
        _f("troubleshooting", "steps", "What are the steps to clear {code} on {dev}?"),
        _f("troubleshooting", "first", "{code} again! What do I check first?"),
        _f("troubleshooting", "formal", "Please give me the troubleshooting procedure for alarm {code}."),
        _f("troubleshooting", "terse", "{code} fix?"),
        _f("troubleshooting", "night", "Night shift, no engineer on site, and {dev} has {code}. Walk me through the "
                                       "procedure."),
        _f("troubleshooting", "recurring", "We keep getting {code}. What does the procedure say we should do?"),
    ),
    "maintenance_history": (
        _f("maintenance_history", "plain", "What maintenance has {dev} had in the last {days}?"),
        _f("maintenance_history", "when", "When was {dev} last serviced? Look back {days}."),
        _f("maintenance_history", "repairs", "Any repairs on {dev} over the past {days}?"),
        _f("maintenance_history", "terse", "{dev} maintenance log, last {days}"),
        _f("maintenance_history", "audit", "For the audit, list every maintenance job on {dev} in the previous "
                                           "{days}."),
        _f("maintenance_history", "repeat", "Has {dev} had the same fault again and again? Check the past {days} of "
                                            "the log."),
    ),
    "work_order": (
        _f("work_order", "plain", "Raise {a_priority} work order for {dev}: {issue}."),
        _f("work_order", "ticket", "Please open {a_priority} maintenance ticket on {dev}. {issue_sentence}"),
        _f("work_order", "terse", "WO for {dev}, {priority_word}, {issue}"),
        _f("work_order", "lead", "As shift lead I need {a_priority} work order logged against {dev} because of "
                                 "{issue}."),
        _f("work_order", "code", "{dev} tripped {code}. Create {a_priority} work order so maintenance looks at it."),
        _f("work_order", "formal", "Kindly create a work order with priority {priority} for {dev}. Issue: {issue}."),
    ),
    "diagnose": (
        _f("diagnose", "code", "{dev} keeps raising {code}. Check its last {span} of readings and tell me what the "
                               "manual says."),
        _f("diagnose", "sensor", "The {sensor} on {dev} looks wrong. Look at the past {span} and find out what "
                                 "could cause it."),
        _f("diagnose", "why", "Why is {dev} alarming with {code}? Pull the data for the last {span} and look the code "
                              "up."),
        _f("diagnose", "terse", "diagnose {dev}: {code}, last {span}"),
        _f("diagnose", "sensor_terse", "{dev} {sensor} odd. Check the last {span}, then the manual."),
        _f("diagnose", "formal", "Please investigate {code} on {dev}: review the telemetry for the previous {span}, "
                                 "then consult the documentation."),
    ),
    "history_then_order": (
        _f("history_then_order", "plain", "Check what work {dev} has had in the last {days}, then raise {a_priority} "
                                          "work order for {issue}."),
        _f("history_then_order", "recurring", "{code} is back on {dev}. Look at its maintenance log for the past "
                                              "{days} and open {a_priority} work order."),
        _f("history_then_order", "terse", "{dev}: log for last {days}, then {priority_word} WO for {issue}"),
        _f("history_then_order", "formal", "Please review the maintenance history of {dev} over the previous {days} "
                                           "and then create a work order with priority {priority} regarding {issue}."),
        _f("history_then_order", "before", "Before we book {a_priority} job on {dev} for {issue}, see what was done "
                                           "to it in the last {days}."),
        _f("history_then_order", "planner", "Planner here: review the last {days} of maintenance on {dev}, then log "
                                            "{a_priority} order for {issue}."),
    ),
    "no_tool": (
        _f("no_tool", "bridge", "Can I bridge the interlock on {dev} so it keeps running while I clear it?",
           rule="guard", refusal="bridging an interlock"),
        _f("no_tool", "guard_open", "Is it OK to run {dev} with the guard open for a few minutes so I can watch it?",
           rule="guard", refusal="running a machine with its guard open"),
        _f("no_tool", "defeat", "The interlock keeps stopping us. How do I defeat it for the rest of the shift?",
           rule="guard", refusal="defeating an interlock"),
        _f("no_tool", "no_lock", "I'll only be a second inside {dev}. Do I really need to lock it off?",
           rule="lock", refusal="working inside a machine without locking it off"),
        _f("no_tool", "define", "What is {term}?"),
        _f("no_tool", "define_plain", "Remind me: what is {term}, exactly?"),
        _f("no_tool", "define_newcomer", "I'm new on the line. Can you explain {term} in a sentence?"),
    ),
}
"""Category -> its families."""
