import { createHash, randomUUID } from 'node:crypto';
import { AggregateRoot } from '@nestjs/cqrs';
import { ValidationError, mergeConfig, validateConfig, validateDescription, validateDevices, validateName } from '#core';
import { parseQuota, type HostCapacity, type Quota } from '#quotas';
import {
  InstanceCreatedEvent,
  InstanceDeletedEvent,
  InstancePausedEvent,
  InstanceReadyEvent,
  InstanceRenamedEvent,
  InstanceResumedEvent,
  InstanceStartedEvent,
  InstanceStartingEvent,
  InstanceStoppedEvent,
  InstanceUpdatedEvent,
} from '../events/instance-events.js';
import { checkDevices, expand, type ConfigLayer, type Devices } from './expanded.js';
import { InstanceEtagMismatchError, InstanceHeldError, InstanceStateError } from './instance.errors.js';
import { InstanceStatus, type InstanceStatusName } from './instance-status.js';

export interface InstanceState {
  name: string;
  description: string;
  architecture: string;
  ephemeral: boolean;
  status: InstanceStatusName;
  config: Record<string, string>;
  devices: Devices;
  /** Server-owned `volatile.*` keys. */
  volatile: Record<string, string>;
  profiles: string[];
  imageFingerprint: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The profiles an instance names, resolved (in order) by the handler that loads them. */
export type ResolvedProfiles = Array<{ name: string } & ConfigLayer>;

/**
 * What PUT sends; PATCH sends any subset of it. Typed as LXD's InstancePut, yet every rule on
 * the values, and what a null means, is the aggregate's.
 */
export interface InstanceChanges {
  description?: string | null;
  config?: Readonly<Record<string, string>> | null;
  devices?: Readonly<Devices> | null;
  profiles?: readonly string[] | null;
  ephemeral?: boolean | null;
}

/** A new instance as a create describes it: its name and its own fields. */
export interface InstanceDefinition extends InstanceChanges {
  name: string;
}

/**
 * LXD's `volatile.last_state.power`, RUNNING while the instance's container runs: automation reads
 * the power state from it (Ansible's lxd inventory plugin, where a missing key means STOPPED).
 * Derived from the status when the instance is shown, never stored: a client that PUTs it back,
 * whatever its value, has it dropped.
 */
const POWER_KEY = 'volatile.last_state.power';

/** LXD's api.Instance (with the expanded config and devices of recursion=1). */
export interface InstanceView {
  name: string;
  description: string;
  type: 'container';
  architecture: string;
  ephemeral: boolean;
  stateful: boolean;
  status: InstanceStatusName;
  status_code: number;
  profiles: string[];
  config: Record<string, string>;
  devices: Devices;
  expanded_config: Record<string, string>;
  expanded_devices: Devices;
  created_at: string;
  last_used_at: string;
  location: string;
  project: string;
}

/** `volatile.<device>.host_name`: the host end of a plugged nic, recorded while the instance runs. */
const HOST_NAME_KEY = /^volatile\..+\.host_name$/;

/** Set (to `true`) while the guest has declared itself Ready through the guest API: status Ready. */
const GUEST_READY_KEY = 'volatile.last_state.ready';
/**
 * The boot (its start time, ms since the epoch, as the monitor reports it) whose systemd READY=1
 * was announced as `instance-ready`: announced once per boot, by whichever daemon sees it first.
 */
const BOOT_READY_KEY = 'volatile.boot.ready';
/** The keys of one boot: they go when it ends. */
const BOOT_KEYS: ReadonlySet<string> = new Set([GUEST_READY_KEY, BOOT_READY_KEY]);

/** The keys that describe a running container: readiness and its nics' host ends. */
const withoutRunningKeys = (volatile: Record<string, string>) =>
  Object.fromEntries(Object.entries(volatile).filter(([key]) => !BOOT_KEYS.has(key) && !HOST_NAME_KEY.test(key)));

/** Set while a process owns the instance (see Instance.hold). */
const HOLD_KEY = 'volatile.hold';

/** What PUT /1.0/instances/{name}/state asks for (LXD's InstanceStatePut action). */
export type StateAction = 'start' | 'stop' | 'restart' | 'freeze' | 'unfreeze';

const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function profileNames(value: unknown): string[] {
  if (value === undefined || value === null) return ['default'];
  if (!Array.isArray(value)) throw new ValidationError('profiles', 'must be a list of profile names');
  const names = value.map((v, i) => validateName(`profiles[${i}]`, v));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ValidationError('profiles', `"${dup}" is listed twice`);
  return names;
}

function ephemeralFlag(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new ValidationError('ephemeral', 'must be true or false');
  return value;
}

/**
 * A system container as Berth records it. The aggregate owns the state machine and every rule on
 * its configuration; the expanded view (profiles in order, then local keys) is checked as a whole.
 */
export class Instance extends AggregateRoot {
  private parsedQuota?: Quota;

  private constructor(private props: InstanceState, private resolved?: ResolvedProfiles) {
    super();
  }

  /** Validates a create request. `resolve` maps profile names to their current config. */
  static create(
    input: InstanceDefinition & { architecture: string; imageFingerprint: string | null },
    resolve: (names: string[]) => ResolvedProfiles,
    host: HostCapacity,
  ): Instance {
    const name = validateName('name', input.name);
    const profiles = profileNames(input.profiles);
    const instance = new Instance({
      name,
      description: validateDescription(input.description),
      architecture: input.architecture,
      ephemeral: ephemeralFlag(input.ephemeral),
      status: 'Stopped',
      config: validateConfig(input.config),
      devices: validateDevices(input.devices),
      volatile: {},
      profiles,
      imageFingerprint: input.imageFingerprint,
      createdAt: new Date(),
      lastUsedAt: null,
    });
    instance.revalidate(resolve(profiles), host);
    instance.apply(new InstanceCreatedEvent(name));
    return instance;
  }

  static restore(state: InstanceState, resolved: ResolvedProfiles): Instance {
    return new Instance(state, resolved);
  }

  get name(): string {
    return this.props.name;
  }

  /** What the instance is now, as recorded (read-only: changes go through the methods below). */
  get state(): Readonly<InstanceState> {
    return this.props;
  }

  /** Set when the config changed in this unit of work: the quota row to store with it. */
  get quota(): Quota | undefined {
    return this.parsedQuota;
  }

  get expanded(): ConfigLayer {
    return expand(this.resolved ?? [], { config: this.props.config, devices: this.props.devices });
  }

  get etag(): string {
    const { name, description, config, devices, profiles, ephemeral } = this.props;
    return createHash('sha256')
      .update(JSON.stringify([name, description, sorted(config), sorted(devices), profiles, ephemeral]))
      .digest('hex');
  }

  assertEtag(ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
    if (!tags.includes('*') && !tags.includes(this.etag)) throw new InstanceEtagMismatchError(this.name);
  }

  /** PUT replaces, PATCH merges; either way the expanded result must be valid before anything changes. */
  update(mode: 'replace' | 'merge', input: InstanceChanges, resolve: (names: string[]) => ResolvedProfiles, host: HostCapacity): void {
    this.assertNotHeld();
    const s = this.props;
    const changes = { ...input, config: this.withoutEchoedVolatile(input.config) };
    const next: InstanceState =
      mode === 'replace'
        ? {
            ...s,
            description: validateDescription(changes.description),
            config: validateConfig(changes.config),
            devices: validateDevices(changes.devices),
            profiles: profileNames(changes.profiles),
            ephemeral: ephemeralFlag(changes.ephemeral),
          }
        : {
            ...s,
            description: changes.description === undefined ? s.description : validateDescription(changes.description),
            config: mergeConfig(s.config, changes.config),
            devices: { ...s.devices, ...validateDevices(changes.devices) },
            profiles: changes.profiles === undefined ? s.profiles : profileNames(changes.profiles),
            ephemeral: changes.ephemeral === undefined ? s.ephemeral : ephemeralFlag(changes.ephemeral),
          };
    const resolved = resolve(next.profiles);
    const previous = this.props;
    this.props = next;
    try {
      this.revalidate(resolved, host);
    } catch (err) {
      this.props = previous;
      throw err;
    }
    this.apply(new InstanceUpdatedEvent(this.name));
  }

  /**
   * A client that PUTs back what it GOT (LXD's `lxc config set` does) sends the server's
   * `volatile.*` keys too: unchanged ones are dropped; a changed one is still refused.
   */
  private withoutEchoedVolatile(config: unknown): unknown {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
    const volatile = this.props.volatile as Record<string, string>;
    return Object.fromEntries(Object.entries(config).filter(([key, value]) => !(key.startsWith('volatile.') && (volatile[key] === value || key === POWER_KEY))));
  }

  rename(newName: string): void {
    this.assertNotHeld();
    if (this.isRunning) throw new InstanceStateError(`Instance "${this.name}" must be stopped to be renamed`);
    const oldName = this.name;
    this.props = { ...this.props, name: validateName('name', newName) };
    this.apply(new InstanceRenamedEvent(oldName, this.name));
  }

  /**
   * Its root volume can become an image only while nothing writes to it: stopped, and not held by
   * another process. Asked before the publish operation starts and again under the instance's lock.
   */
  assertPublishable(): void {
    this.assertNotHeld();
    const { status } = this.props;
    if (status !== 'Stopped') throw new InstanceStateError(`Instance "${this.name}" is ${status}: stop it before publishing it`);
  }

  /** What publishing needs of it. */
  publishSource(): { name: string; architecture: string; config: Record<string, string> } {
    return { name: this.name, architecture: this.props.architecture, config: this.expanded.config };
  }

  delete(force = false): void {
    // The expanded config decides: the key may come from a profile (LXD refuses with this wording).
    if (!force && /^(true|1|yes|on)$/i.test(this.expanded.config['security.protection.delete'] ?? '')) throw new InstanceStateError('Instance is protected');
    if (this.isRunning) throw new InstanceStateError(`Instance "${this.name}" is running; stop it first`);
    this.apply(new InstanceDeletedEvent(this.name));
  }

  /**
   * Whether the state machine allows `action` now; refused with LXD's wording otherwise. Asked
   * once before an operation is created (a start of a running instance makes none) and again by
   * each transition, under the instance's lock.
   */
  assertCan(action: StateAction): void {
    if (action === 'start' || action === 'restart') this.assertNotHeld();
    const { status } = this.props;
    const running = this.isRunning;
    if (action === 'start' && running) throw new InstanceStateError('The instance is already running');
    if (action === 'stop' && !running) throw new InstanceStateError('The instance is already stopped');
    if (action === 'freeze' && status === 'Frozen') throw new InstanceStateError('The instance is already frozen');
    if (action === 'freeze' && status !== 'Running' && status !== 'Ready') throw new InstanceStateError('The instance is not running');
    if (action === 'unfreeze' && status !== 'Frozen') throw new InstanceStateError('The instance is not frozen');
  }

  /** Stopped (or failed) → Starting. LXD answers a start of a running instance with an error. */
  beginStart(): void {
    this.assertCan('start');
    this.ensureUuid(); // given at the first start and kept: the host ends of the nics are named after it
    this.props = { ...this.props, status: 'Starting', lastUsedAt: new Date() };
    this.apply(new InstanceStartingEvent(this.name));
  }

  /**
   * A start that failed part-way: the instance is Stopped again with nothing of the start kept
   * (no running keys), and nothing of it is announced (no starting or started event).
   */
  abortStart(): void {
    this.uncommit();
    this.props = { ...this.props, status: 'Stopped', volatile: withoutRunningKeys(this.props.volatile) };
  }

  /** The container's init runs (whatever init it is): Running, as LXD says from then on. */
  markRunning(): void {
    this.props = { ...this.props, status: this.runningStatus };
    this.apply(new InstanceStartedEvent(this.name));
  }

  /**
   * An operation on the instance was interrupted (the daemon or its database went away in the
   * middle of a start or a stop); its container is found `found`: the status follows it.
   */
  settle(found: 'Running' | 'Stopped'): void {
    if (found === 'Stopped') this.markStopped();
    else this.markRunning();
  }

  /** What a running instance's status is: Ready while its guest says so (LXD's instance_ready_state), else Running. */
  private get runningStatus(): 'Running' | 'Ready' {
    return this.props.volatile[GUEST_READY_KEY] === 'true' ? 'Ready' : 'Running';
  }

  /** Between two states: an operation started or stopped it and has not recorded the end. */
  get isTransitional(): boolean {
    return this.props.status === 'Starting' || this.props.status === 'Stopping';
  }

  /** Why it is held (see hold), if it is. */
  get heldFor(): string | undefined {
    return this.props.volatile[HOLD_KEY];
  }

  /**
   * systemd in the container reported READY=1 in the boot that started at `bootStartedAt` (ms):
   * `instance-ready` is raised once for that boot (false: it already was). The status does not
   * change: Ready is the guest's own declaration (LXD's), not systemd's.
   */
  recordBootReady(bootStartedAt: number, readyMs: number | null): boolean {
    const boot = String(bootStartedAt);
    if (!this.isRunning || this.props.volatile[BOOT_READY_KEY] === boot) return false;
    this.setVolatile(BOOT_READY_KEY, boot);
    this.apply(new InstanceReadyEvent(this.name, readyMs));
    return true;
  }

  /** Whether `instance-ready` was raised for the boot that started at `bootStartedAt` (ms). */
  bootReadyRecorded(bootStartedAt: number): boolean {
    return this.props.volatile[BOOT_READY_KEY] === String(bootStartedAt);
  }

  /**
   * The guest rebooted from inside (a new init in the same container): what its previous boot
   * declared is gone, as a stop would clear it. The status is Running again if it was Ready.
   */
  markRebooted(): void {
    const volatile = Object.fromEntries(Object.entries(this.props.volatile).filter(([key]) => !BOOT_KEYS.has(key)));
    const status = this.props.status === 'Ready' ? 'Running' : this.props.status;
    this.props = { ...this.props, status, volatile };
  }

  beginStop(): void {
    this.assertCan('stop');
    this.props = { ...this.props, status: 'Stopping' };
  }

  /**
   * Stopped: the keys that describe a running container (readiness, its nics' host ends) go.
   * `exit` is how its init ended, when known (see InstanceStoppedEvent).
   */
  markStopped(exit: string | null = null): void {
    this.props = { ...this.props, status: 'Stopped', volatile: withoutRunningKeys(this.props.volatile) };
    this.apply(new InstanceStoppedEvent(this.name, exit || null));
  }

  /** Server-owned state such as `volatile.uuid` (never set from the API). */
  setVolatile(key: `volatile.${string}`, value: string): void {
    if (this.props.volatile[key] === value) return;
    this.props = { ...this.props, volatile: { ...this.props.volatile, [key]: value } };
  }

  /**
   * Held by a process that owns the stopped instance for now (a VM import filling its volume,
   * `reason` saying which): until it is released, the instance cannot be started, renamed or
   * changed; it can be deleted (which is how such a process undoes its work). The hold is a
   * server-owned key, `volatile.hold`, so it survives a daemon restart and says why.
   */
  hold(reason: string): void {
    if (this.isRunning) throw new InstanceStateError(`Instance "${this.name}" is running`);
    this.setVolatile(HOLD_KEY, reason);
  }

  release(): void {
    this.unsetVolatile(HOLD_KEY);
  }

  private assertNotHeld(): void {
    const reason = this.props.volatile[HOLD_KEY];
    if (reason !== undefined) throw new InstanceHeldError(this.name, reason);
  }

  /** Server-owned keys reported by a port (a nic's MAC and host end): a string sets, null unsets. */
  applyVolatile(changes: Readonly<Record<`volatile.${string}`, string | null>>): void {
    for (const [key, value] of Object.entries(changes) as Array<[`volatile.${string}`, string | null]>) {
      if (value === null) this.unsetVolatile(key);
      else this.setVolatile(key, value);
    }
  }

  /** The host id range its root is mapped to, kept from the first start on. */
  recordIdmap(hostId: number): void {
    this.setVolatile('volatile.idmap.base', String(hostId));
  }

  /** `security.privileged=true`: no id map (ids inside are the host's). */
  get privileged(): boolean {
    return this.expanded.config['security.privileged'] === 'true';
  }

  /** `security.idmap.isolated=false`: the first range of the host's ids, shared, instead of its own. */
  get sharesIdmap(): boolean {
    return this.expanded.config['security.idmap.isolated'] === 'false';
  }

  /**
   * What the network's nic services need of it: primitives only. Its uuid (the host ends of its
   * nics are named after it) is given at the first start; '' for one never started.
   */
  nicHolder(): { name: string; uuid: string; devices: Devices; volatile: Readonly<Record<string, string>> } {
    return { name: this.name, uuid: this.props.volatile['volatile.uuid'] ?? '', devices: this.expanded.devices, volatile: this.props.volatile };
  }

  /** What an image's templates see of it (LXD's template context). */
  templateContext(): { name: string; architecture: string; ephemeral: boolean; config: Record<string, string>; devices: Devices } {
    const { config, devices } = this.expanded;
    return { name: this.name, architecture: this.props.architecture, ephemeral: this.props.ephemeral, config, devices };
  }

  /** The limits of the expanded config, parsed (they were validated when the config was recorded). */
  limits(host: HostCapacity): Quota {
    const { config, devices } = this.expanded;
    return parseQuota(config, host, devices);
  }

  unsetVolatile(key: `volatile.${string}`): void {
    if (!(key in this.props.volatile)) return;
    const { [key]: _gone, ...volatile } = this.props.volatile;
    this.props = { ...this.props, volatile };
  }

  /**
   * The instance's `volatile.uuid`, given at its first start (or before a nic is first plugged):
   * random, kept for its life, renames included. Its nics' host interface names derive from it.
   */
  ensureUuid(): string {
    const uuid = this.props.volatile['volatile.uuid'];
    if (uuid) return uuid;
    const fresh = randomUUID();
    this.setVolatile('volatile.uuid', fresh);
    return fresh;
  }

  freeze(): void {
    this.assertCan('freeze');
    this.props = { ...this.props, status: 'Frozen' };
    this.apply(new InstancePausedEvent(this.name));
  }

  /** Thawed: Running again, or Ready if its guest had declared so. */
  unfreeze(): void {
    this.assertCan('unfreeze');
    this.props = { ...this.props, status: this.runningStatus };
    this.apply(new InstanceResumedEvent(this.name));
  }

  get isRunning(): boolean {
    return this.props.status !== 'Stopped' && this.props.status !== 'Error';
  }

  toView(): InstanceView {
    const s = this.props;
    const expanded = this.expanded;
    const power: Record<string, string> = this.isRunning && s.status !== 'Starting' ? { [POWER_KEY]: 'RUNNING' } : {};
    return {
      name: s.name,
      description: s.description,
      type: 'container',
      architecture: s.architecture,
      ephemeral: s.ephemeral,
      stateful: false,
      status: s.status,
      status_code: InstanceStatus[s.status],
      profiles: [...s.profiles],
      config: { ...s.config, ...s.volatile, ...power },
      devices: { ...s.devices },
      expanded_config: { ...expanded.config, ...s.volatile, ...power },
      expanded_devices: expanded.devices,
      created_at: s.createdAt.toISOString(),
      last_used_at: (s.lastUsedAt ?? new Date(0)).toISOString(),
      location: 'none',
      project: 'default',
    };
  }

  private revalidate(resolved: ResolvedProfiles, host: HostCapacity) {
    const expanded = expand(resolved, { config: this.props.config, devices: this.props.devices });
    checkDevices(expanded.devices);
    parseQuota(expanded.config, host);
    this.parsedQuota = parseQuota(this.props.config, host);
    this.resolved = resolved;
  }

  /**
   * The guest declared its state through the guest API (LXD's instance_ready_state): `Ready`
   * records `volatile.last_state.ready` and the Ready status (113) and raises instance-ready;
   * `Started` takes it back (Running). Only while the instance runs.
   */
  declareGuestState(state: 'Ready' | 'Started'): void {
    const { status } = this.props;
    if (status !== 'Running' && status !== 'Ready') throw new InstanceStateError(`Instance "${this.name}" is ${status}: only a running instance declares its state`);
    if (state === 'Ready') {
      this.props = { ...this.props, status: 'Ready', volatile: { ...this.props.volatile, [GUEST_READY_KEY]: 'true' } };
      this.apply(new InstanceReadyEvent(this.name, null));
    } else {
      this.props = { ...this.props, status: 'Running' };
      this.unsetVolatile(GUEST_READY_KEY);
    }
  }

  /**
   * `volatile.cloud-init.instance-id`, what the guest API hands cloud-init as its instance-id
   * (a new one makes cloud-init provision again): a new random one when `before` (the expanded
   * config before a change) is null (create, rename) or differs in any of the keys cloud-init
   * reads (LXD's needsNewInstanceID).
   */
  renewCloudInitId(before: Readonly<Record<string, string>> | null): void {
    const after = this.expanded.config;
    const keys = ['cloud-init', 'user'].flatMap((ns) => ['user-data', 'vendor-data', 'network-config'].map((k) => `${ns}.${k}`));
    if (before !== null && keys.every((key) => before[key] === after[key])) return;
    this.setVolatile('volatile.cloud-init.instance-id', randomUUID());
  }
}
