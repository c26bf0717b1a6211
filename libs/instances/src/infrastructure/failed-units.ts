import { Injectable } from '@nestjs/common';
import { Runtime, type ContainerState } from '#runtime';

/** How long one answer of systemctl is reused: a state polled every second runs it once in that time. */
const FRESH_MS = 5_000;
/** A systemd too busy to answer (it is halting, or stuck) does not hold a state query longer. */
const ANSWER_WITHIN_MS = 3_000;

/** `systemctl --failed --plain --no-legend` output: the unit is each line's first word. */
export function parseFailedUnits(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((unit) => unit !== '' && unit !== '●');
}

/**
 * The units systemd in a running container has in the failed state, asked of systemd itself:
 * `systemctl --failed` run inside (in its namespaces, through the runtime's exec helper), at most
 * every few seconds per boot, and only when one instance's state is asked for: a list of
 * instances (`lxc list` asks for all their states) gives the last answer read, so that it costs
 * no process per instance. Only for a systemd guest once it reported READY=1; null otherwise,
 * before any answer, and when systemctl does not answer in time or fails.
 */
@Injectable()
export class FailedUnits {
  private readonly cache = new Map<string, { boot: number; at: number; units: Promise<string[] | null> }>();

  constructor(private readonly runtime: Runtime) {}

  of(name: string, state: ContainerState, { ask = true }: { ask?: boolean } = {}): Promise<string[] | null> {
    if (state.init !== 'systemd' || state.readyMs === null || state.state !== 'Running') return Promise.resolve(null);
    const boot = state.startedAt.getTime();
    const cached = this.cache.get(name);
    if (cached && cached.boot === boot && (!ask || Date.now() - cached.at < FRESH_MS)) return cached.units;
    if (!ask) return Promise.resolve(null);
    const units = this.ask(name);
    this.cache.set(name, { boot, at: Date.now(), units });
    return units;
  }

  /** A stopped or deleted instance's answer is dropped. */
  forget(name: string): void {
    this.cache.delete(name);
  }

  private async ask(name: string): Promise<string[] | null> {
    const run = this.runtime.execStream(name, ['systemctl', '--failed', '--plain', '--no-legend', '--no-pager'], { env: { SYSTEMD_COLORS: '0' } });
    run.stdin.end();
    let output = '';
    // exited may come before the output is read: the output is whole at its stream's end.
    const read = new Promise<void>((resolve) => {
      run.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      run.stdout.on('end', resolve).on('error', resolve).on('close', resolve);
    });
    run.stderr.resume();
    let timer: NodeJS.Timeout | undefined;
    // Killed when late; answered null then even if the kill cannot end it (a frozen cgroup).
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        run.signal(9);
        resolve(null);
      }, ANSWER_WITHIN_MS);
    });
    const answer = Promise.all([run.exited, read]).then(
      ([exit]) => (exit.exitCode === 0 ? parseFailedUnits(output) : null),
      () => null,
    );
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
