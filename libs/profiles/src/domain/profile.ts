import { createHash } from 'node:crypto';
import { AggregateRoot } from '@nestjs/cqrs';
import { mergeConfig, validateConfig, validateDescription, validateDevices, validateName } from '#core';
import { parseQuota, type HostCapacity, type Quota } from '#quotas';
import { ProfileCreatedEvent, ProfileDeletedEvent, ProfileRenamedEvent, ProfileUpdatedEvent } from '../events/profile-events.js';
import { DefaultProfileProtectedError, ProfileEtagMismatchError, ProfileInUseError } from './profile.errors.js';

export type Devices = Record<string, Record<string, string>>;

export interface ProfileState {
  name: string;
  description: string;
  config: Record<string, string>;
  devices: Devices;
}

/**
 * What PUT sends; PATCH sends any subset of it. Typed as LXD's ProfilePut, yet every rule on the
 * values, and what a null means, is the aggregate's.
 */
export interface ProfileChanges {
  description?: string | null;
  config?: Readonly<Record<string, string>> | null;
  devices?: Readonly<Devices> | null;
}

/** A new profile: its name and its fields. */
export interface ProfileDefinition extends ProfileChanges {
  name: string;
}

/** LXD's api.Profile. */
export interface ProfileView extends ProfileState {
  used_by: string[];
}

const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A named bundle of config and devices that instances apply in order. */
export class Profile extends AggregateRoot {
  /** The typed form of the `limits.*` keys, set whenever the config was (re)validated. */
  private parsedQuota?: Quota;

  private constructor(private state: ProfileState) {
    super();
  }

  static create(input: ProfileDefinition, host: HostCapacity): Profile {
    const config = validateConfig(input.config);
    const profile = new Profile({
      name: validateName('name', input.name),
      description: validateDescription(input.description),
      config,
      devices: validateDevices(input.devices),
    });
    profile.parsedQuota = parseQuota(config, host);
    profile.apply(new ProfileCreatedEvent(profile.name));
    return profile;
  }

  static restore(state: ProfileState): Profile {
    return new Profile(state);
  }

  get name(): string {
    return this.state.name;
  }

  get snapshot(): Readonly<ProfileState> {
    return this.state;
  }

  /** Defined when the config changed in this unit of work: the quota row to store with it. */
  get quota(): Quota | undefined {
    return this.parsedQuota;
  }

  /** Changes whenever anything a client can edit changes; sent as ETag, checked against If-Match. */
  get etag(): string {
    const { name, description, config, devices } = this.state;
    return createHash('sha256')
      .update(JSON.stringify([name, description, sorted(config), sorted(devices)]))
      .digest('hex');
  }

  assertEtag(ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
    if (!tags.includes('*') && !tags.includes(this.etag)) throw new ProfileEtagMismatchError(this.name);
  }

  /** PUT: every editable field is replaced (missing ones become empty). */
  replace(changes: ProfileChanges, host: HostCapacity): void {
    const next = {
      name: this.state.name,
      description: validateDescription(changes.description),
      config: validateConfig(changes.config),
      devices: validateDevices(changes.devices),
    };
    this.parsedQuota = parseQuota(next.config, host);
    this.state = next;
    this.apply(new ProfileUpdatedEvent(this.name));
  }

  /** PATCH: config keys and devices are merged, by key and by device name. */
  patch(changes: ProfileChanges, host: HostCapacity): void {
    const next = {
      name: this.state.name,
      description: changes.description === undefined ? this.state.description : validateDescription(changes.description),
      config: mergeConfig(this.state.config, changes.config),
      devices: { ...this.state.devices, ...validateDevices(changes.devices) },
    };
    this.parsedQuota = parseQuota(next.config, host);
    this.state = next;
    this.apply(new ProfileUpdatedEvent(this.name));
  }

  rename(newName: string): void {
    if (this.name === 'default') throw new DefaultProfileProtectedError('renamed');
    const oldName = this.name;
    this.state = { ...this.state, name: validateName('name', newName) };
    this.apply(new ProfileRenamedEvent(oldName, this.name));
  }

  delete(usedBy: string[]): void {
    if (this.name === 'default') throw new DefaultProfileProtectedError('deleted');
    if (usedBy.length > 0) throw new ProfileInUseError(this.name, usedBy);
    this.apply(new ProfileDeletedEvent(this.name));
  }

  toView(usedBy: string[]): ProfileView {
    const { name, description, config, devices } = this.state;
    return { name, description, config: { ...config }, devices: { ...devices }, used_by: usedBy };
  }
}
