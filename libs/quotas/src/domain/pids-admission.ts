import { AdmissionRefusedError } from './admission.js';

/** The running instances' promises of process ids, against the part of the host's pid table they may have. */
export interface PidsBudget {
  /** The kernel's `pid_max`: the size of the host's pid table. */
  pidMax: number;
  /** The share of it (`limits.processes.share`) the instances' `limits.processes` may add up to. */
  share: number;
}

/** How many pids the instances may be promised in all. */
export const pidsAllowed = ({ pidMax, share }: PidsBudget) => Math.floor(pidMax * share);

/**
 * Refuses to start `name` when its `limits.processes`, added to those of the instances already
 * running or starting, would exceed the allowance. An instance without `limits.processes` can take
 * every pid the kernel has, so it counts as the whole allowance: it starts only on a host where
 * nothing else holds pids, and nothing else starts beside it.
 */
export function checkPidsAdmission(name: string, candidate: number | undefined, running: Array<number | undefined>, budget: PidsBudget): void {
  const allowed = pidsAllowed(budget);
  const unlimited = running.filter((p) => p === undefined).length;
  const committed = running.reduce<number>((sum, p) => sum + (p ?? allowed), 0);
  const requested = candidate ?? allowed;
  if (committed + requested <= allowed) return;
  const held = unlimited === 0 ? `${running.length} running` : `${running.length} running, ${unlimited} of them without limits.processes counted as ${allowed} each`;
  const asked = candidate === undefined ? `${requested} requested (no limits.processes: counted as the whole allowance)` : `${requested} requested`;
  throw new AdmissionRefusedError(
    `Not enough process ids to start "${name}": limits.processes ${committed} committed (${held}) + ${asked} = ${committed + requested}, ` +
      `over the ${allowed} allowed (limits.processes.share=${budget.share} × pid_max ${budget.pidMax})`,
  );
}
