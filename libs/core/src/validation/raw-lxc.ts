/**
 * `raw.lxc`: in LXD, lines of LXC configuration appended to the container's. Berth runs no LXC,
 * so it takes the one line LXD users set for an init of their own, `lxc.signal.halt`, the signal
 * a stop sends to init (lxc.container.conf(5)), and refuses any other.
 */

/** Linux's signal numbers by name (signal(7), x86 and arm), without the SIG prefix. */
const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};
/* glibc's SIGRTMIN (the kernel's is 32; glibc keeps two for itself), as LXC counts. */
const RTMIN = 34;
const RTMAX = 64;

/** A signal as LXC reads one (`SIGUSR1`, `USR1`, `10`, `SIGRTMIN+3`, `SIGRTMAX-2`); undefined if it is none. */
export function parseSignal(text: string): number | undefined {
  const name = text.trim().toUpperCase().replace(/^SIG/, '');
  let n: number | undefined;
  if (/^\d{1,2}$/.test(name)) n = Number(name);
  else if (name in SIGNALS) n = SIGNALS[name];
  else {
    const rt = /^RT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
    if (rt) n = (rt[1] === 'MIN' ? RTMIN : RTMAX) + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
  }
  return n !== undefined && n >= 1 && n <= RTMAX ? n : undefined;
}

/** What Berth takes from a `raw.lxc` value: the halt signal, if it names one. */
export interface RawLxc {
  haltSignal?: number;
}

/**
 * Parses `raw.lxc` (blank lines and `#` comments allowed); returns why it is refused as a string,
 * or what it says.
 */
export function parseRawLxc(value: string): RawLxc | string {
  const result: RawLxc = {};
  for (const raw of value.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq).trim();
    if (key !== 'lxc.signal.halt') return `Berth takes only lxc.signal.halt in raw.lxc, not ${JSON.stringify(key)}`;
    if (result.haltSignal !== undefined) return 'sets lxc.signal.halt twice';
    const signal = eq < 0 ? undefined : parseSignal(line.slice(eq + 1));
    if (signal === undefined) return `lxc.signal.halt must be a signal such as SIGPWR, SIGUSR1 or SIGRTMIN+3, not ${JSON.stringify(line.slice(eq + 1).trim())}`;
    if (signal === SIGNALS.KILL || signal === SIGNALS.STOP) return 'lxc.signal.halt cannot be SIGKILL or SIGSTOP (a stop kills after its timeout)';
    result.haltSignal = signal;
  }
  return result;
}

/** The halt signal of an expanded config (its `raw.lxc`, validated when it was set), if one is set. */
export function haltSignalOf(config: Readonly<Record<string, string>>): number | undefined {
  const raw = config['raw.lxc'];
  if (raw === undefined) return undefined;
  const parsed = parseRawLxc(raw);
  return typeof parsed === 'string' ? undefined : parsed.haltSignal;
}
