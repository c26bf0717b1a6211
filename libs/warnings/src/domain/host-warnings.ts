import type { Condition } from './warning.js';

/** What the host checks read, gathered by the host probe (framework-free, so the rules can be tested with fakes). */
export interface HostFacts {
  /** Whether lxcfs answers at its mount point (/var/lib/lxcfs): its proc files are readable. */
  readonly lxcfs: boolean;
  /** The inotify sysctls (`fs.inotify.max_user_instances`, `fs.inotify.max_user_watches`); undefined when unreadable. */
  readonly inotify: Readonly<Record<InotifyKey, number | undefined>>;
  /** The text of /etc/subuid and /etc/subgid ('' when missing). */
  readonly subuid: string;
  readonly subgid: string;
  readonly cgroup: CgroupFacts;
}

export interface CgroupFacts {
  /** `unified`: cgroup2 alone; `hybrid`: v1 controllers and a cgroup2 tree beside them; `legacy`: v1 alone. */
  readonly layout: 'unified' | 'hybrid' | 'legacy';
  /** Controllers limits can use: the v1 hierarchies mounted, or the cgroup2 root's `cgroup.controllers`. */
  readonly controllers: readonly string[];
  /** On a hybrid host, the controllers of the cgroup2 tree beside the v1 ones. */
  readonly unifiedControllers: readonly string[];
  /** v1: memory.memsw.* exists (the kernel accounts swap). */
  readonly swapAccounting: boolean;
  /** v1: blkio.weight or blkio.bfq.weight exists (the I/O scheduler has proportional weights). */
  readonly blkioWeight: boolean;
}

export type InotifyKey = 'fs.inotify.max_user_instances' | 'fs.inotify.max_user_watches';

/** What scripts/setup.sh sets (LXD's production settings): each container's systemd takes inotify instances from its host user's pool. */
export const INOTIFY_MINIMUMS: Readonly<Record<InotifyKey, number>> = {
  'fs.inotify.max_user_instances': 1_048_576,
  'fs.inotify.max_user_watches': 1_048_576,
};

/** The ids one unprivileged container maps (Berth's ID_RANGE_SIZE): root's range must hold at least one. */
const ID_RANGE = 65_536;

export const LXCFS_NOT_RUNNING = 'lxcfs is not running';
export const INOTIFY_LIMITS_LOW = 'Inotify limits too low';
export const NO_ROOT_SUBIDS = 'No subordinate id range for root';
export const CGROUP_LIMITS = 'Cgroup layout limits';
/** Every type the host checks raise: a warning of these types whose condition is gone gets resolved. */
export const HOST_WARNING_TYPES = [LXCFS_NOT_RUNNING, INOTIFY_LIMITS_LOW, NO_ROOT_SUBIDS, CGROUP_LIMITS] as const;

/** The limits each controller carries; which do not apply when it is missing. */
const CONTROLLER_LIMITS: ReadonlyArray<readonly [v1: string, v2: string, limits: string]> = [
  ['memory', 'memory', 'limits.memory, limits.memory.swap, limits.memory.enforce'],
  ['cpu', 'cpu', 'limits.cpu.allowance, limits.cpu.priority'],
  ['cpuset', 'cpuset', 'limits.cpu'],
  ['pids', 'pids', 'limits.processes'],
  ['blkio', 'io', 'limits.disk.priority and the disk limits.read, limits.write'],
  ['freezer', '', 'lxc pause (the freezer)'],
];

/** The conditions on this host that Berth warns about, each naming what to do. */
export function hostWarnings(facts: HostFacts): Condition[] {
  return [lxcfsWarning(facts), inotifyWarning(facts), subidWarning(facts), cgroupWarning(facts.cgroup)].filter((c): c is Condition => c !== undefined);
}

function lxcfsWarning(facts: HostFacts): Condition | undefined {
  if (facts.lxcfs) return undefined;
  return {
    type: LXCFS_NOT_RUNNING,
    severity: 'moderate',
    entityUrl: '',
    message:
      "lxcfs is not running (nothing readable at /var/lib/lxcfs/proc/meminfo): containers' /proc/meminfo, /proc/cpuinfo, /proc/stat and /proc/uptime show the host's values, " +
      'so free, top and uptime inside ignore limits.memory and limits.cpu. Start lxcfs on /var/lib/lxcfs (Debian package lxcfs), then restart the containers: its files are bound in at start.',
  };
}

function inotifyWarning(facts: HostFacts): Condition | undefined {
  const low = (Object.keys(INOTIFY_MINIMUMS) as InotifyKey[]).filter((key) => (facts.inotify[key] ?? 0) < INOTIFY_MINIMUMS[key]);
  if (low.length === 0) return undefined;
  const values = low.map((key) => `${key} is ${facts.inotify[key] ?? 'unreadable'} (Berth wants at least ${INOTIFY_MINIMUMS[key]})`).join('; ');
  return {
    type: INOTIFY_LIMITS_LOW,
    severity: 'moderate',
    entityUrl: '',
    message:
      `${values}: each container's systemd and services take inotify instances and watches from one host user's pool, and units fail with "Too many open files" once it runs out. ` +
      `Raise it: ${low.map((key) => `sysctl -w ${key}=${INOTIFY_MINIMUMS[key]}`).join(' and ')}, and keep it in /etc/sysctl.d/ (scripts/setup.sh does both at install).`,
  };
}

/** Whether `text` (an /etc/subuid or /etc/subgid) gives root a range of at least one container's ids, read as Berth's id maps read it (root's first line). */
export function rootHasRange(text: string): boolean {
  const line = text.split('\n').find((l) => l.startsWith('root:'));
  const [, first, count] = line?.split(':') ?? [];
  return first !== undefined && /^\d+$/.test(first) && count !== undefined && /^\d+$/.test(count.trim()) && Number(count) >= ID_RANGE;
}

function subidWarning(facts: HostFacts): Condition | undefined {
  const missing = [['/etc/subuid', facts.subuid] as const, ['/etc/subgid', facts.subgid] as const].filter(([, text]) => !rootHasRange(text)).map(([file]) => file);
  if (missing.length === 0) return undefined;
  return {
    type: NO_ROOT_SUBIDS,
    severity: 'low',
    entityUrl: '',
    message:
      `${missing.join(' and ')} give${missing.length === 1 ? 's' : ''} root no range of at least ${ID_RANGE} ids: Berth then maps containers onto 1000000-1000999999 (LXD's default), ` +
      `which nothing on the host reserves, so useradd may hand the same ids to a new user. Reserve it: add root:1000000:1000000000 to ${missing.join(' and ')}.`,
  };
}

function cgroupWarning(cgroup: CgroupFacts): Condition | undefined {
  const v2 = cgroup.layout === 'unified';
  const notApplied = CONTROLLER_LIMITS.filter(([v1Name, v2Name]) => (v2 ? v2Name !== '' && !cgroup.controllers.includes(v2Name) : !cgroup.controllers.includes(v1Name))).map(
    ([v1Name, v2Name, limits]) => `${limits} (no ${v2 ? v2Name : v1Name} controller)`,
  );
  if (!v2 && cgroup.controllers.includes('memory') && !cgroup.swapAccounting) notApplied.push('limits.memory.swap (no swap accounting: boot with swapaccount=1)');
  if (!v2 && cgroup.controllers.includes('blkio') && !cgroup.blkioWeight) notApplied.push('limits.disk.priority (no blkio.weight or blkio.bfq.weight: the disks\' I/O scheduler has no weights; BFQ has them)');
  if (v2 && notApplied.length === 0) return undefined;
  const parts: string[] = [];
  if (v2) parts.push(`The cgroup2 root lacks controllers: ${notApplied.join('; ')} do not apply. Enable the controllers in the kernel (and in the root's cgroup.subtree_control).`);
  else {
    const beside = cgroup.layout === 'hybrid' ? `, and the cgroup2 tree beside them holds ${cgroup.unifiedControllers.length === 0 ? 'no controllers' : `only ${cgroup.unifiedControllers.join(', ')}`}` : '';
    parts.push(`${cgroup.layout === 'hybrid' ? 'Hybrid' : 'Legacy'} cgroup layout: limits go through cgroup v1 controllers${beside}.`);
    parts.push(notApplied.length === 0 ? 'Every limit Berth sets applies through v1 here.' : `Not applied here: ${notApplied.join('; ')}.`);
    parts.push('Guests whose systemd is 256 or later refuse to boot on cgroup v1.');
    parts.push('To have every limit and such guests: boot the host with cgroup v2 alone (systemd.unified_cgroup_hierarchy=1, or cgroup_no_v1=all, on the kernel command line).');
  }
  return { type: CGROUP_LIMITS, severity: 'low', entityUrl: '', message: parts.join(' ') };
}

const V1_CONTROLLERS = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'hugetlb', 'memory', 'misc', 'net_cls', 'net_prio', 'perf_event', 'pids', 'rdma'];

/**
 * The cgroup layout from /proc/self/mountinfo: the v1 hierarchies' controllers (from each
 * `cgroup` mount's super options) and where cgroup2 is mounted.
 */
export function cgroupMounts(mountinfo: string): { v1Controllers: string[]; cgroup2: string | undefined } {
  const v1 = new Set<string>();
  let cgroup2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const [type, , options] = fields.slice(dash + 1);
    if (type === 'cgroup2') cgroup2 ??= fields[4];
    if (type === 'cgroup') for (const option of options?.split(',') ?? []) if (V1_CONTROLLERS.includes(option)) v1.add(option);
  }
  return { v1Controllers: [...v1].sort(), cgroup2 };
}
