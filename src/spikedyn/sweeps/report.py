"""What ``spikedyn sweep`` prints: the counts of each state, the plan (what it trains, what it leaves), the status table."""

from __future__ import annotations

from collections import Counter

from spikedyn.sweeps.expand import SweepRun
from spikedyn.sweeps.state import STATES, RunState
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.protocols import reported


def counts(states: dict[str, RunState]) -> str:
    """"8 runs: 1 pending, 1 running, 0 stopped, 5 completed, 1 failed, 0 missing"."""
    counted = Counter(state.state for state in states.values())
    return f"{len(states)} runs: " + ", ".join(f"{counted[name]} {name}" for name in STATES)


def _epochs(state: RunState) -> str:
    summary = state.summary
    return f"{summary['epochs_completed']}/{summary.get('max_epochs', '?')}" if "epochs_completed" in summary else "-"


def _why(state: RunState) -> str:
    """Why a run to train is trained: new, or resumed (and how far it got)."""
    if state.state == "pending":
        return "new"
    if state.state == "missing":
        return f"missing: {state.error}; trained again from the start"
    return f"{state.state}, {_epochs(state)} epochs recorded" if state.summary.get("epochs_completed") else f"{state.state}, no epoch recorded"


def plan(sweep: Sweep, states: dict[str, RunState], runs: list[SweepRun], retry_failed: bool) -> str:
    """The sweep's counts, the runs it trains (and why), and the runs it leaves alone."""
    lines = [f"sweep {sweep.file.name} ({sweep.folder}): {counts(states)}"]
    lines.append(f"to train: {len(runs)} run(s)" + (":" if runs else ""))
    lines += [f"  {run.name} ({_why(states[run.name])})" for run in runs]
    running = [name + (f" ({state.note})" if state.note else "") for name, state in states.items() if state.state == "running"]
    if running:
        lines.append("running in another process, left to it: " + ", ".join(running))
    kept = {run.name for run in runs}
    lines += missing_lines({name: state for name, state in states.items() if name not in kept}, NOT_TRAINED)
    failed = [(name, state) for name, state in states.items() if state.state == "failed"]
    if failed and not retry_failed:
        lines.append("failed, not retried (pass --retry-failed to train them again):")
        lines += [f"  {name}: {state.error}" for name, state in failed]
    return "\n".join(lines)


#: What to do about missing runs, after a sweep and in the plan of the next (which trains those whose folder is gone).
AFTER_SWEEP = "run the sweep again to train them from the start, once any folder written again in part is moved away"
NOT_TRAINED = "not trained: move each folder away, then run the sweep again to train the run from the start"


def missing_lines(states: dict[str, RunState], what_to_do: str = AFTER_SWEEP) -> list[str]:
    """The missing runs among ``states``, each with why, under a line that says what to do."""
    missing = [(name, state) for name, state in states.items() if state.state == "missing"]
    if not missing:
        return []
    return [f"missing, their records lost with their folder ({what_to_do}):", *(f"  {name}: {state.error}" for name, state in missing)]


def _percent(value: object) -> str:
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) else "-"


def status_table(sweep: Sweep, states: dict[str, RunState]) -> str:
    """One line per run (state, epochs, the accuracy its protocol reports, why it failed or is missing), then the counts."""
    width = max([len("run"), *(len(name) for name in states)])
    lines = [f"{'run':{width}}  {'state':9}  {'epochs':>7}  {'acc %':>6}  error"]
    for name, state in states.items():
        accuracy = _percent(reported(state.summary)[1].get("test_acc"))
        lines.append(f"{name:{width}}  {state.state:9}  {_epochs(state):>7}  {accuracy:>6}  {state.error or state.note or ''}".rstrip())
    lines.append(f"sweep {sweep.file.name} ({sweep.folder}): {counts(states)}")
    return "\n".join(lines)

