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
        _f("status", "shift_start", "Start of shift: what state is the line in? Anything wrong with {dev}?"),
        _f("status", "walk", "Quick check before I walk the floor: which machines are up, and is {dev} alarming?"),
        _f("status", "manager", "The plant manager wants an overview of every machine now. Include {dev}."),
        _f("status", "down", "Is anything down on the line? Someone said {dev} stopped."),
        _f("status", "inventory", "What equipment is on line 1 and how is each one doing, {dev} in particular?"),
        _f("status", "radio", "Control room here. Can you confirm {dev} is running and nothing else is faulted?"),
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
        _f("live_reading", "please", "Give me the {sensor} readings of {dev} for the past {span}, please."),
        _f("live_reading", "watch", "I'm watching {dev}. What did its {sensor} do in the last {span}?"),
        _f("live_reading", "numbers", "Numbers please: {sensor}, {dev}, last {span}."),
        _f("live_reading", "dump", "Dump all the telemetry of {dev} for the last {span}."),
        _f("live_reading", "engineer", "As process engineer I need the {sensor} log of {dev} over the previous "
                                       "{span}."),
        _f("live_reading", "drift", "Has the {sensor} on {dev} drifted during the last {span}?"),
    ),
    "fault_code_meaning": (
        _f("fault_code_meaning", "plain", "What does fault code {code} mean?"),
        _f("fault_code_meaning", "screen", "{code} just came up on the screen. What is it?"),
        _f("fault_code_meaning", "device", "{dev} is showing {code}. What does that code mean?"),
        _f("fault_code_meaning", "severity", "How serious is {code}, and what does it indicate?"),
        _f("fault_code_meaning", "terse", "meaning of {code}?"),
        _f("fault_code_meaning", "formal", "Could you explain the alarm {code} on {dev}?"),
        _f("fault_code_meaning", "newcomer", "I'm new here. What's a {code} alarm?"),
        _f("fault_code_meaning", "lookup", "Look up {code} for me. What does it stand for?"),
        _f("fault_code_meaning", "operator", "Operator on {dev} here: the panel says {code}. Meaning?"),
        _f("fault_code_meaning", "decode", "Decode alarm {code}."),
        _f("fault_code_meaning", "worried", "{code} popped up and I don't know what it is. Should I be worried?"),
        _f("fault_code_meaning", "manual", "What does the manual say {code} means on {dev}?"),
        _f("fault_code_meaning", "logged", "The log shows {code} overnight. What is that alarm?"),
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
        _f("troubleshooting", "clear", "How do I clear {code} on {dev}?"),
        _f("troubleshooting", "procedure", "What's the procedure when {dev} throws {code}?"),
        _f("troubleshooting", "stuck", "{dev} is stuck on {code}. How do we get it going again?"),
        _f("troubleshooting", "checklist", "Give me the checklist for fixing {code}."),
        _f("troubleshooting", "reset", "What should I do to reset {code} safely?"),
        _f("troubleshooting", "myself", "Before I call maintenance about {code}, what can I try myself?"),
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
        _f("maintenance_history", "work_done", "What work has been done on {dev} over the past {days}?"),
        _f("maintenance_history", "jobs", "Show me the jobs logged against {dev} in the last {days}."),
        _f("maintenance_history", "orders", "Which work orders were carried out on {dev} during the previous {days}?"),
        _f("maintenance_history", "anyone", "Has anyone serviced {dev} in the last {days}?"),
        _f("maintenance_history", "records", "Pull the maintenance records of {dev} for the past {days}."),
        _f("maintenance_history", "parts", "Were any parts replaced on {dev} in the previous {days}?"),
    ),
    "work_order": (
        _f("work_order", "plain", "Raise {a_priority} work order for {dev}: {issue}."),
        _f("work_order", "ticket", "Please open {a_priority} maintenance ticket on {dev}. {issue_sentence}"),
        _f("work_order", "terse", "WO for {dev}, {priority_word}, {issue}"),
        _f("work_order", "lead", "As shift lead I need {a_priority} work order logged against {dev} because of "
                                 "{issue}."),
        _f("work_order", "code", "{dev} tripped {code}. Create {a_priority} work order so maintenance looks at it."),
        _f("work_order", "formal", "Kindly create a work order with priority {priority} for {dev}. Issue: {issue}."),
        _f("work_order", "book", "Book {a_priority} job for {dev}: {issue}."),
        _f("work_order", "log_it", "Log {a_priority} work order on {dev} for {issue}."),
        _f("work_order", "need", "We need maintenance on {dev}. {issue_sentence} Make it {priority_word}."),
        _f("work_order", "report", "Report a fault on {dev} to maintenance, {priority_word}: {issue}."),
        _f("work_order", "schedule", "Schedule {a_priority} repair of {dev}. {issue_sentence}"),
        _f("work_order", "alarm", "{dev} has {code}. Get {a_priority} work order raised."),
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
        _f("diagnose", "root_cause", "Find the root cause of {code} on {dev}: check the last {span} of data and "
                                     "the manual."),
        _f("diagnose", "alarmed", "{dev} alarmed with {code}. Look at its readings from the past {span} and tell me "
                                  "what the documentation suggests."),
        _f("diagnose", "sensor_why", "Why would the {sensor} on {dev} behave like this? Check the last {span} and "
                                     "the manual."),
        _f("diagnose", "night", "Night shift: {dev} keeps throwing {code}. Look at its data for the last {span}, "
                                "then at what the manual says."),
        _f("diagnose", "compare", "Compare the last {span} of {dev} telemetry with what the manual says about "
                                  "{code}."),
        _f("diagnose", "sensor_formal", "Please analyse the {sensor} of {dev} over the previous {span} and consult "
                                        "the manual for possible causes."),
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
        _f("history_then_order", "first", "First check the maintenance log of {dev} for the past {days}, then "
                                          "raise {a_priority} work order for {issue}."),
        _f("history_then_order", "again", "Same trouble on {dev} again ({issue}). Look at its last {days} of "
                                          "maintenance, then open {a_priority} ticket."),
        _f("history_then_order", "lead", "As shift lead: look back {days} at the jobs on {dev}, then log "
                                         "{a_priority} work order for {issue}."),
        _f("history_then_order", "terse_history", "history {dev} {days}, then WO {priority_word}: {issue}"),
        _f("history_then_order", "after", "Open {a_priority} work order on {dev} for {issue}, but look at what was "
                                          "done to it in the last {days} first."),
        _f("history_then_order", "supervisor", "Supervisor request: review the maintenance of {dev} over the "
                                               "previous {days}, then book {a_priority} job for {issue}."),
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
        _f("no_tool", "bypass", "Can I bypass the guard switch on {dev} just for this batch?",
           rule="guard", refusal="bypassing a guard switch"),
        _f("no_tool", "tape", "Can we tape down the interlock on {dev} until the engineer arrives?",
           rule="guard", refusal="taping down an interlock"),
        _f("no_tool", "reach_in", "Do I have to lock off {dev} before reaching in to clear a jam? It only takes a "
                                  "moment.", rule="lock"),
        _f("no_tool", "define_mean", "What does {term} mean here?"),
        _f("no_tool", "define_manual", "The manual keeps mentioning {term}. What is it?"),
        _f("no_tool", "define_simply", "Can you explain {term} simply?"),
    ),
}
"""Category -> its families."""
