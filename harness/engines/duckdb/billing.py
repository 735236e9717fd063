"""DuckDB has no bill, but it has a machine: it is priced as the cloud VM that could have run it,
billed as AWS bills a VM (read 2026-12-06):

- The machine: the cheapest one in the catalog (`duckdb.machines`, EC2 M6i sizes) with at least
  the run's recorded `threads` in vCPU and at least its `memory_limit` in memory (both recorded
  by the engine's describe()). A run whose threads or memory limit were not recorded cannot be
  priced: unknown, never a guess. Sizes: https://aws.amazon.com/ec2/instance-types/m6i/ ; prices:
  https://aws.amazon.com/ec2/pricing/on-demand/ (not readable from here on 2026-12-06; each
  machine says in the catalog whether its price was confirmed).
- Billing: per second, with a minimum of 60 seconds each time the instance enters the running
  state (Linux on demand). https://repost.aws/knowledge-center/ec2-instance-hour-billing
- The run bill: a VM is billed from boot to stop, busy or idle. Boot-to-stop is modelled as the
  run's wall time (the run's start to its end as the store recorded them: loading, session set-up
  and the harness's own work between queries included), at least 60 s. Booting the VM and
  installing whbench are not timed, so the model is a lower bound on a real VM's bill.
- The marginal cost: a query's own client seconds on the same machine, already running (no
  minimum).
- The month: as many VMs of the run's size as the pattern keeps busy at the measured speed
  (pricing.capacity_needed), each up the pattern's active hours a day.
- Storage: EBS gp3 per GB-month of the database file. https://aws.amazon.com/ebs/pricing/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import units
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    GIB,
    Billing,
    Cost,
    Price,
    Priced,
    Span,
    capacity_needed,
    held_seconds,
    seconds,
    spans,
)
from harness.settings import Pattern

if TYPE_CHECKING:
    from harness.store.rows import StoredAttempt, StoredLoad

# DuckDB writes sizes with binary units (`current_setting('memory_limit')` gives "18.8 GiB") and
# reads both kinds in settings ("8GB" is 10^9 bytes, "8GiB" 2^30).
_UNITS = {
    "": 1,
    "B": 1,
    "BYTES": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
    "PIB": 2**50,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def memory_bytes(text: Any) -> float | None:
    """A DuckDB memory size ("18.8 GiB", "8GB", "500 MiB") in bytes; None when unreadable."""
    match = _SIZE.match(str(text)) if text is not None else None
    if match is None or match.group(2).upper() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).upper()]


@dataclass(frozen=True)
class Machine:
    name: str
    vcpu: int
    memory_gib: float
    hour: Price
    confirmed: bool  # the price was checked on the vendor's own page


class DuckDBBilling(Billing):
    # -- the machine, from the run's recorded settings -------------------------------------------
    def machines(self) -> list[Machine]:
        """The catalog's VMs, cheapest first."""
        found = [
            Machine(
                name,
                int(row["vcpu"]),
                float(row["memory_gib"]),
                self.price("machines", name, "hour"),
                bool(row.get("confirmed")),
            )
            for name, row in self.section["machines"].items()
        ]
        return sorted(found, key=lambda m: (m.hour.price, m.vcpu, m.memory_gib))

    def machine(self) -> tuple[Machine | None, str]:
        """The cheapest VM with the run's threads and memory limit, and why (or why none)."""
        threads = self.settings.get("threads")
        memory = memory_bytes(self.settings.get("memory_limit"))
        if threads is None or memory is None:
            return None, "threads or memory limit not recorded: the machine is unknown"
        need_gib = memory / GIB
        for machine in self.machines():
            # DuckDB's memory_limit caps its buffer pool, not the process: a VM with exactly
            # that much memory is the least that could hold it.
            if machine.vcpu >= int(threads) and machine.memory_gib >= need_gib:
                why = (
                    f"{machine.name} ({machine.vcpu} vCPU, {units.number(machine.memory_gib)} "
                    f"GiB) at ${machine.hour.price}/h: the cheapest catalog VM with at least "
                    f"{int(threads)} vCPU (threads) and {units.figure(need_gib)} GiB (the "
                    "memory limit)"
                )
                if not machine.confirmed:
                    why += " (its price is not confirmed on AWS's page: see the catalog)"
                return machine, why
        return None, (
            f"no catalog VM has {int(threads)} vCPU and {units.figure(need_gib)} GiB: add one to "
            "duckdb.machines"
        )

    def _machine_seconds(self, billed: float) -> tuple[Cost, str]:
        machine, why = self.machine()
        if machine is None:
            return Cost(None, "unknown", None, why), why
        return Cost(billed / 3600 * machine.hour.price, "modelled", machine.hour.as_of), why

    # -- the rules --------------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """The query's own seconds on a VM that is up anyway: no minimum applies."""
        if not attempt.sent:
            return FREE
        held = held_seconds(attempt, attempt.client_seconds)
        if held is None:
            return Cost(None, "unknown")
        return self._machine_seconds(held)[0]

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        window, what = self._uptime(attempts)
        if window is None:
            return Priced(FREE, ["no query ran"])
        minimum = float(self.section["minimum_seconds_per_start"])
        up = seconds(window)
        billed = max(up, minimum)
        cost, why = self._machine_seconds(billed)
        return Priced(
            cost,
            [
                f"a VM up {units.seconds(up)} ({what}), billed per second with a "
                f"{units.seconds(minimum)} minimum per start: {units.seconds(billed)}",
                why,
            ],
        )

    def _uptime(self, attempts: list[StoredAttempt]) -> tuple[Span | None, str]:
        """When the VM was up for these attempts: boot-to-stop modelled as the run's wall time.
        One level of a run under load is priced as if it ran alone (harness/levels.py), so its
        attempts alone bound it. A run that has not ended stops at its last query so far."""
        found = spans(attempts)
        if not found:
            return None, ""
        first, last = found[0][0], max(end for _, end in found)
        levels = {a.level for a in attempts}
        if len(levels) == 1 and None not in levels:
            return (first, last), "this level's queries, as if it ran alone"
        started, ended = self.run.started_at, self.run.ended_at
        if started is None:  # a run stored without its start: only its queries are known
            return (first, last), "first query start to last end; the run's start is unknown"
        start = min(started, first)
        if ended is None:
            return (start, last), "the run's start to its last query; it has not ended"
        return (start, max(ended, last)), "the run's start to its end"

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        loaded = [load.seconds for load in loads if load.status == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        # The loading ran on the same VM within the run's wall time, which the run bill prices
        # whole: a VM bills its uptime, not its tasks, so nothing is added here.
        return Priced(
            Cost(0.0, "modelled"),
            [
                f"loading: {units.seconds(sum(loaded))} on the same VM, inside the run "
                "bill's wall time"
            ],
        )

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        # EBS bills GB-months of provisioned volume; AWS's GB is 2^30 bytes (its docs use GiB).
        return self._stored(stored_bytes, self.price("storage_gb_month"), GIB, "GB", "on a disk")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """As many VMs of the run's size as the pattern keeps busy at the measured speed
        (`capacity_needed`: queries a day x seconds a query / 3600 compute-hours, over the
        active hours, rounded up), each started for the active hours of every day and stopped
        after: per-second billing with a 60 s minimum per start
        (https://repost.aws/knowledge-center/ec2-instance-hour-billing, read 2026-12-06). DuckDB
        runs in one process on one machine, so more machines means a copy of the database on
        each; one larger machine is named beside it but not priced, because DuckDB's speed on
        more threads was not measured."""
        machine, why = self.machine()
        need = capacity_needed(pattern, seconds_per_query)
        if machine is None:
            return Priced(Cost(None, "unknown", None, why), [why])
        minimum = float(self.section["minimum_seconds_per_start"])
        up = max(pattern.active_hours * 3600, minimum) if need.units else 0.0
        hours = need.units * up / 3600 * DAYS_PER_MONTH
        cost = Cost(hours * machine.hour.price, "modelled", machine.hour.as_of)
        explain = [
            need.says(f"x {machine.name}"),
            f"{need.units} x {machine.name} for {units.number(up / 3600)} h a day (each VM "
            "started for the active hours and stopped after; EC2 bills per second, at least "
            f"{units.seconds(minimum)} a start): {hours:,.0f} machine-hours a month",
            why,
        ]
        if need.units > 1 and (bigger := self._one_machine_for(machine, need.units)):
            explain.append(
                f"or one {bigger.name} ({bigger.vcpu} vCPU, {units.number(bigger.memory_gib)} "
                f"GiB) at ${bigger.hour.price}/h, if DuckDB ran {need.units}x as many queries on "
                "it: not measured, so not priced"
            )
        return Priced(cost, explain)

    def _one_machine_for(self, machine: Machine, copies: int) -> Machine | None:
        """The cheapest catalog VM with `copies` times `machine`'s vCPU and memory."""
        for bigger in self.machines():
            if (
                bigger.vcpu >= copies * machine.vcpu
                and bigger.memory_gib >= copies * machine.memory_gib
            ):
                return bigger
        return None
