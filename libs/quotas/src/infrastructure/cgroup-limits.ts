import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, LOGGER, type Logger } from '#core';
import { cgroupV1Writes, cgroupV2Writes, hasDiskIoLimits, type CgroupWrite, type DiskIoTarget } from '../domain/cgroup-settings.js';
import type { HostCapacity } from '../domain/host.js';
import type { Quota } from '../domain/quota.js';
import { HOST_CAPACITY } from '../tokens.js';
import { readCgroupUsage, readOomKills, type CgroupLocation, type CgroupUsage } from './cgroup-usage.js';
import { applyCgroupWrites, type AppliedSetting, type CgroupTarget } from './cgroup-writer.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** The child cgroup the runtime puts init in; the container's own cgroup above it carries the limits. */
const PAYLOAD = 'payload';

/** The block device disk I/O limits go to: the one under the storage pool, or why there is none. */
export type DiskBacking = { readonly kind: 'device'; readonly major: number; readonly minor: number } | { readonly kind: 'none'; readonly reason: string };

/** A container's cgroup as the runtime reports it: its path below the hierarchy's root, and the host's layout. */
export interface ContainerCgroup {
  /** e.g. `/berth/web`. */
  readonly cgroup: string;
  readonly cgroupLayout?: string;
}

/** The cgroup writes of one instance's limits on this host, computed once and applied as often as needed. */
export interface CgroupPlan {
  readonly version: 1 | 2;
  readonly writes: CgroupWrite[];
  /** Limits that cannot apply here (disk I/O on a pool without a block device), reported as such. */
  readonly notApplicable: AppliedSetting[];
}

export interface PlanRequest {
  readonly instance: string;
  readonly quota: Quota;
  /** Asked only when disk I/O limits are set (or must be lifted). */
  readonly backing: () => Promise<DiskBacking>;
  /** The cgroup of a running container: throttles it holds from keys removed since are lifted. */
  readonly running?: ContainerCgroup;
}

/**
 * The cgroup side of quotas: turns a parsed quota into this host's cgroup writes (v1 controllers
 * on hybrid hosts, or v2), applies them to a container's cgroup and reads them back, reads usage
 * and OOM kills, and freezes. Takes primitives and returns data; it knows no aggregate.
 */
@Injectable()
export class CgroupLimits {
  constructor(
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /**
   * The writes of the quota for this host's layout. The root disk's I/O limits go to the block
   * device under the pool; when there is none (a dir pool on tmpfs or overlayfs) they are reported
   * as not applicable, not silently dropped.
   */
  async plan({ instance, quota, backing, running }: PlanRequest): Promise<CgroupPlan> {
    const cpus = quota.cpu?.kind === 'set' ? quota.cpu.cpus : quota.cpu?.kind === 'count' ? this.capacity.cpus.slice(0, quota.cpu.count) : undefined;
    const version = cgroupVersion();
    const io: DiskIoTarget = { weightFile: existsSync(join(CGROUP_ROOT, 'blkio', 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight' };
    const notApplicable: AppliedSetting[] = [];
    const reset = running !== undefined && (await holdsThrottles(version, relative(running)));
    if (hasDiskIoLimits(quota) || reset) {
      const device = await backing();
      if (device.kind === 'device') Object.assign(io, { device: `${device.major}:${device.minor}`, reset });
      else {
        for (const [key, rate] of [['limits.read', quota.diskRead], ['limits.write', quota.diskWrite]] as const) {
          if (rate) notApplicable.push({ file: key, requested: `${rate.perSecond}${rate.kind === 'iops' ? 'iops' : ' bytes/s'}`, actual: `not applicable: ${device.reason}` });
        }
        if (notApplicable.length > 0 && running === undefined) this.log.warn({ instance, reason: device.reason }, 'the disk I/O limits are not applicable on this pool');
      }
    }
    const writes = version === 1 ? cgroupV1Writes(quota, cpus, existsSync(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes')), io) : cgroupV2Writes(quota, cpus, io);
    return { version, writes, notApplicable };
  }

  /** Applies the plan to the running container's cgroup and reads the settings back. */
  async apply(container: ContainerCgroup, plan: CgroupPlan): Promise<AppliedSetting[]> {
    const rel = relative(container);
    const { writes, notApplicable } = plan;
    if (plan.version === 1) {
      const target: CgroupTarget = { version: 1, paths: Object.fromEntries(['memory', 'cpu', 'cpuset', 'pids', 'blkio'].map((c) => [c, join(CGROUP_ROOT, c, rel)])) };
      // v1 refuses to shrink a cpuset below a child's: init's `payload` child first, then the container's.
      const cpuset = writes.filter((w) => w.controller === 'cpuset');
      if (cpuset.length > 0) await applyCgroupWrites({ version: 1, paths: { cpuset: join(CGROUP_ROOT, 'cpuset', rel, PAYLOAD) } }, cpuset);
      // v1's blk-throttle is flat (a group's throttles do not cover its children), and the
      // container's processes live in init's `payload` child: the throttles go there too.
      const throttles = writes.filter((w) => w.file.startsWith('blkio.throttle.'));
      if (throttles.length > 0) await applyCgroupWrites({ version: 1, paths: { blkio: join(CGROUP_ROOT, 'blkio', rel, PAYLOAD) } }, throttles);
      return [...(await applyCgroupWrites(target, writes)), ...notApplicable];
    }
    return [...(await applyCgroupWrites({ version: 2, path: join(CGROUP_ROOT, rel) }, writes)), ...notApplicable];
  }

  /** Brings a running container's cgroup to the quota (lifting throttles of keys removed since) and reads it back. */
  async reapply(request: PlanRequest & { readonly running: ContainerCgroup }): Promise<AppliedSetting[]> {
    return this.apply(request.running, await this.plan(request));
  }

  /** What a running container uses, and the limits in force, read from its cgroup (v1 here, v2 on unified hosts). */
  usage(container: ContainerCgroup): Promise<CgroupUsage> {
    return readCgroupUsage(location(container));
  }

  /** How many processes the OOM killer ended in the container's current cgroup. */
  oomKills(container: ContainerCgroup): Promise<number> {
    return readOomKills(location(container));
  }

  /**
   * Freezes (or thaws) every process of a running container through its cgroup's freezer: v1's
   * `freezer.state` (FROZEN/THAWED) on hybrid hosts, cgroup2's `cgroup.freeze` otherwise. The
   * monitor lives in a cgroup of its own and keeps answering. Resolves once the kernel reports
   * the whole subtree frozen (or thawed); a freeze that does not complete within 10 s (a task
   * stuck in uninterruptible sleep) is undone and fails with a FreezeError.
   */
  async freeze(instance: string, container: ContainerCgroup, frozen: boolean): Promise<void> {
    const rel = relative(container);
    const v1 = join(CGROUP_ROOT, 'freezer', rel, 'freezer.state');
    if (container.cgroupLayout === 'hybrid' && existsSync(v1)) {
      const wanted = frozen ? 'FROZEN' : 'THAWED';
      await writeFile(v1, wanted);
      if (await settles(async () => (await readFile(v1, 'utf8')).trim() === wanted)) return;
      await writeFile(v1, 'THAWED').catch(() => undefined);
      throw new FreezeError(instance, v1);
    }
    const dir = [join(CGROUP_ROOT, 'unified', rel), join(CGROUP_ROOT, rel)].find((d) => existsSync(join(d, 'cgroup.freeze')));
    if (!dir) throw new FreezeError(instance, join(CGROUP_ROOT, rel));
    await writeFile(join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const done = async () => /^frozen (\d)$/m.exec(await readFile(join(dir, 'cgroup.events'), 'utf8'))?.[1] === (frozen ? '1' : '0');
    if (await settles(done)) return;
    await writeFile(join(dir, 'cgroup.freeze'), '0').catch(() => undefined);
    throw new FreezeError(instance, join(dir, 'cgroup.freeze'));
  }
}

/** The container's processes did not all freeze in time; they were thawed again. */
export class FreezeError extends DomainError {
  readonly code = 'INSTANCE.FREEZE_FAILED';
  constructor(name: string, file: string) {
    super(`The processes of instance "${name}" could not be frozen (${file})`);
  }
}

const cgroupVersion = (): 1 | 2 => (existsSync(join(CGROUP_ROOT, 'memory', 'cgroup.procs')) ? 1 : 2);
const relative = (container: ContainerCgroup) => container.cgroup.replace(/^\/+/, '');
const location = (container: ContainerCgroup): CgroupLocation => ({ version: cgroupVersion(), root: CGROUP_ROOT, rel: relative(container) });

/** Polls `check` every 20 ms for up to 10 s. */
async function settles(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

/** Whether the container's cgroup (`rel`) holds I/O throttles: they must be lifted when their keys are gone. */
async function holdsThrottles(version: 1 | 2, rel: string): Promise<boolean> {
  const files =
    version === 1
      ? ['read_bps_device', 'read_iops_device', 'write_bps_device', 'write_iops_device'].map((f) => join(CGROUP_ROOT, 'blkio', rel, `blkio.throttle.${f}`))
      : [join(CGROUP_ROOT, rel, 'io.max')];
  for (const file of files) if ((await readFile(file, 'utf8').catch(() => '')).trim() !== '') return true;
  return false;
}
