import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DATABASE, isForeignKeyViolation, persisting, isUniqueViolation, ValidationError, type Database } from '#core';
import { QuotaLedger } from '#quotas';
import type { Devices } from '../domain/expanded.js';
import { Instance, type InstanceState, type ResolvedProfiles } from '../domain/instance.js';
import { IdRangeExhaustedError, InstanceAlreadyExistsError, InstanceBusyError, InstanceNotFoundError } from '../domain/instance.errors.js';
import { InstanceRecord } from './instance.entity.js';
import { ProfileResolver } from './profile-resolver.js';

type Resolve = (names: string[]) => ResolvedProfiles;

/** Advisory-lock class of instance locks (the object id is the instance's id). */
const LOCK_CLASS = 0x62690001;
/** How long a request waits for a lock held only for a moment (the reconciler's, one being released). */
const SHORT_WAIT_MS = 30_000;

/** Inside change(): the lock will be free in a moment; the transaction is given up and tried again. */
class ShortlyFree extends Error {
  constructor(readonly id: number) {
    super('the instance lock is shortly free');
  }
}
/** Serializes admission decisions, so two creates cannot both take the last gigabyte. */
const ADMISSION_LOCK = 0x62690002;
/** Serializes id range allocation, so two starts never take the same range. */
const IDMAP_LOCK = 0x62690003;

/**
 * Called inside the writing transaction, under the admission lock, with the expanded config of
 * every other instance; throws to refuse.
 */
export type AdmissionCheck = (others: Array<Record<string, string>>) => void;

interface Row {
  id: string;
  name: string;
  description: string;
  architecture: string;
  ephemeral: boolean;
  status: InstanceState['status'];
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  volatile: Record<string, string>;
  image_fingerprint: string | null;
  created_at: Date;
  last_used_at: Date | null;
  profiles: string[];
}

/**
 * Loads instances with the names of their profiles in order (kept by name, renames cascading);
 * the profiles' config and devices come from the profiles context (ProfileResolver).
 */
const SELECT = `
  SELECT i.id, i.name, i.description, i.architecture, i.ephemeral, i.status, i.config, i.devices,
         i.volatile, i.image_fingerprint, i.created_at, i.last_used_at,
         COALESCE(array_agg(ip.profile_name ORDER BY ip.position) FILTER (WHERE ip.profile_name IS NOT NULL), '{}') AS profiles
    FROM instances i
    LEFT JOIN instance_profiles ip ON ip.instance_id = i.id`;

function toDomain(r: Row, resolve: Resolve): Instance {
  const state: InstanceState = {
    name: r.name,
    description: r.description,
    architecture: r.architecture,
    ephemeral: r.ephemeral,
    status: r.status,
    config: r.config,
    devices: r.devices,
    volatile: r.volatile,
    profiles: r.profiles,
    imageFingerprint: r.image_fingerprint,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
  };
  return Instance.restore(state, resolve(r.profiles));
}

@Injectable()
export class InstanceRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly profiles: ProfileResolver,
    private readonly quotas: QuotaLedger,
  ) {}

  private get manager(): EntityManager {
    return this.db.dataSource.manager;
  }

  async list(): Promise<Instance[]> {
    const resolve = await this.profiles.load();
    const rows: Row[] = await this.manager.query(`${SELECT} GROUP BY i.id ORDER BY i.name`);
    return rows.map((r) => toDomain(r, resolve));
  }

  /** Every other instance's name and expanded devices (for rules across instances, such as one holder per static address). */
  async othersDevices(name: string): Promise<Array<{ name: string; devices: Devices }>> {
    return (await this.list()).filter((i) => i.name !== name).map((i) => ({ name: i.name, devices: i.expanded.devices }));
  }

  async names(): Promise<string[]> {
    const rows = await this.manager.find(InstanceRecord, { select: { name: true }, order: { name: 'ASC' } });
    return rows.map((r) => r.name);
  }

  async get(name: string): Promise<Instance> {
    const resolve = await this.profiles.load();
    const [row]: Row[] = await this.manager.query(`${SELECT} WHERE i.name = $1 GROUP BY i.id`, [name]);
    if (!row) throw new InstanceNotFoundError(name);
    return toDomain(row, resolve);
  }

  /** `/1.0/instances/<name>` of every instance using each profile. */
  async profileUsers(): Promise<Map<string, string[]>> {
    const rows: Array<{ profile: string; instance: string }> = await this.manager.query(
      `SELECT ip.profile_name AS profile, i.name AS instance
         FROM instance_profiles ip JOIN instances i ON i.id = ip.instance_id
        ORDER BY i.name`,
    );
    const users = new Map<string, string[]>();
    for (const r of rows) users.set(r.profile, [...(users.get(r.profile) ?? []), `/1.0/instances/${encodeURIComponent(r.instance)}`]);
    return users;
  }

  async insert(instance: Instance, admit?: AdmissionCheck): Promise<void> {
    const s = instance.state;
    // Read before the transaction: a query on another pooled connection while holding one (and
    // the admission lock) would let parallel creates exhaust the pool waiting on each other.
    const resolve = admit ? await this.profiles.load() : undefined;
    try {
      await this.manager.transaction(async (tx) => {
        if (admit) await this.admit(tx, s.name, admit, resolve!);
        const { identifiers } = await tx.insert(InstanceRecord, {
          name: s.name,
          type: 'container',
          description: s.description,
          architecture: s.architecture,
          ephemeral: s.ephemeral,
          status: s.status,
          config: s.config,
          devices: s.devices,
          volatile: s.volatile,
          imageFingerprint: s.imageFingerprint,
        });
        const id = String(identifiers[0].id);
        await this.attachProfiles(tx, id, s.profiles);
        await this.quotas.recordInstance(tx, id, instance.quota ?? {}, s.devices);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new InstanceAlreadyExistsError(s.name);
      throw err;
    }
  }

  /**
   * Loads the instance under its lock (refusing with "busy" when another operation holds it),
   * lets `change` decide, and writes the outcome in the same transaction. `afterWrite` runs after
   * the rows are written and before the commit (host changes such as renaming a volume), so a
   * conflict found by the database stops it, and its failure rolls the rows back; the volatile
   * keys it sets are written too.
   */
  async change(
    name: string,
    change: (instance: Instance) => Promise<'save' | 'delete'>,
    options: { admit?: AdmissionCheck; afterWrite?: (instance: Instance) => Promise<void> } = {},
  ): Promise<Instance> {
    const { admit, afterWrite } = options;
    const resolve = await this.profiles.load();
    // A lock held only for a moment (the reconciler's look, a release under way) is waited for,
    // outside the transaction; an operation's gives "busy" at once.
    for (const deadline = Date.now() + SHORT_WAIT_MS; ; ) {
      try {
        return await this.changeOnce(name, change, admit, afterWrite, resolve);
      } catch (err) {
        if (!(err instanceof ShortlyFree) || Date.now() > deadline) throw err instanceof ShortlyFree ? new InstanceBusyError(name) : err;
        await new Promise((r) => setTimeout(r, 20));
        await this.waitUntilFree(err.id);
      }
    }
  }

  private async changeOnce(
    name: string,
    change: (instance: Instance) => Promise<'save' | 'delete'>,
    admit: AdmissionCheck | undefined,
    afterWrite: ((instance: Instance) => Promise<void>) | undefined,
    resolve: Resolve,
  ): Promise<Instance> {
    return this.manager.transaction(async (tx) => {
      const [found]: Array<{ id: string }> = await tx.query('SELECT id FROM instances WHERE name = $1', [name]);
      if (!found) throw new InstanceNotFoundError(name);
      const id = Number(found.id);
      if (this.db.locks.shortlyFree(LOCK_CLASS, id)) throw new ShortlyFree(id);
      // An operation of this daemon holds it (the memory counts while the lock session is away).
      if (this.db.locks.holds(LOCK_CLASS, id)) throw new InstanceBusyError(name);
      const [{ locked }] = await tx.query('SELECT pg_try_advisory_xact_lock($1, $2::int) AS locked', [LOCK_CLASS, found.id]);
      // Taken meanwhile by this daemon for a moment, or held by another daemon's operation.
      if (!locked) throw this.db.locks.shortlyFree(LOCK_CLASS, id) || !this.db.locks.holds(LOCK_CLASS, id) ? new ShortlyFree(id) : new InstanceBusyError(name);
      const [row]: Row[] = await tx.query(`${SELECT} WHERE i.id = $1 GROUP BY i.id`, [found.id]);
      const instance = toDomain(row, resolve);
      const before = instance.state;
      const outcome = await change(instance);
      if (outcome === 'delete') {
        await tx.delete(InstanceRecord, { id: found.id });
        await afterWrite?.(instance);
        return instance;
      }
      const s = instance.state;
      if (admit) await this.admit(tx, before.name, admit, resolve);
      try {
        await tx.update(
          InstanceRecord,
          { id: found.id },
          { name: s.name, description: s.description, ephemeral: s.ephemeral, status: s.status, config: s.config, devices: s.devices, volatile: s.volatile, updatedAt: () => 'now()' },
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new InstanceAlreadyExistsError(s.name);
        throw err;
      }
      if (s.profiles !== before.profiles) {
        await tx.query('DELETE FROM instance_profiles WHERE instance_id = $1', [found.id]);
        await this.attachProfiles(tx, found.id, s.profiles);
      }
      if (instance.quota) await this.quotas.recordInstance(tx, found.id, instance.quota, s.devices);
      await afterWrite?.(instance);
      // Host changes may record server-owned keys (a hotplugged nic's volatile.<dev>.host_name): same transaction.
      if (instance.state.volatile !== s.volatile) await tx.update(InstanceRecord, { id: found.id }, { volatile: instance.state.volatile });
      return instance;
    });
  }

  /**
   * Runs `fn` holding the instance's lock for its whole duration, so that a long operation and any
   * conflicting request exclude each other: the other side gets "busy". The lock is a session lock
   * on the connection set aside for locks (AdvisoryLocks): the operation holds no pooled connection
   * while it waits on a container, and a daemon killed mid-operation releases it with its session.
   */
  async withLock<T>(name: string, fn: () => Promise<T>, { background = false } = {}): Promise<T> {
    const [found]: Array<{ id: string }> = await this.manager.query('SELECT id FROM instances WHERE name = $1', [name]);
    if (!found) throw new InstanceNotFoundError(name);
    const id = Number(found.id);
    for (const deadline = Date.now() + SHORT_WAIT_MS; ; ) {
      if (!background) await this.waitUntilFree(id);
      if (await this.db.locks.tryLock(LOCK_CLASS, id, { background })) break;
      if (background || Date.now() > deadline || !this.db.locks.shortlyFree(LOCK_CLASS, id)) throw new InstanceBusyError(name);
    }
    try {
      return await fn();
    } finally {
      await this.db.locks.unlock(LOCK_CLASS, id);
    }
  }

  /**
   * A request never gets "busy" because of the reconciler (background work holding the lock for a
   * moment, withLock's `background`) or a release under way: it waits, up to SHORT_WAIT_MS.
   */
  private async waitUntilFree(id: number): Promise<void> {
    for (const deadline = Date.now() + SHORT_WAIT_MS; this.db.locks.shortlyFree(LOCK_CLASS, id) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Writes status and volatile keys; the caller holds the instance's lock (withLock). What it
   * records has happened on the host, so a short database outage is waited out.
   */
  async saveState(instance: Instance): Promise<void> {
    const s = instance.state;
    await persisting(() => this.manager.update(InstanceRecord, { name: s.name }, { status: s.status, volatile: s.volatile, lastUsedAt: s.lastUsedAt, updatedAt: () => 'now()' }));
  }

  /**
   * Gives the instance its own range of `size` host ids inside [first, first + total), the lowest
   * free one, recorded as `volatile.idmap.base`; an instance that has one keeps it.
   */
  async allocateIdRange(name: string, first: number, total: number, size: number): Promise<number> {
    return this.manager.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [IDMAP_LOCK]);
      const rows: Array<{ name: string; base: string | null }> = await tx.query("SELECT name, volatile->>'volatile.idmap.base' AS base FROM instances");
      const mine = rows.find((r) => r.name === name);
      if (!mine) throw new InstanceNotFoundError(name);
      if (mine.base !== null) return Number(mine.base);
      const taken = new Set(rows.filter((r) => r.base !== null).map((r) => Number(r.base)));
      for (let base = first; base + size <= first + total; base += size) {
        if (taken.has(base)) continue;
        await tx.query(`UPDATE instances SET volatile = volatile || jsonb_build_object('volatile.idmap.base', $2::text) WHERE name = $1`, [name, String(base)]);
        return base;
      }
      throw new IdRangeExhaustedError(first, total, size);
    });
  }

  /** Removes the record of an instance whose creation failed part-way. */
  async removeRecord(name: string): Promise<void> {
    await this.manager.delete(InstanceRecord, { name });
  }

  private async admit(tx: EntityManager, name: string, check: AdmissionCheck, resolve: Resolve) {
    await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [ADMISSION_LOCK]);
    const rows: Row[] = await tx.query(`${SELECT} WHERE i.name <> $1 GROUP BY i.id`, [name]);
    check(rows.map((r) => toDomain(r, resolve).expanded.config));
  }

  /**
   * Attaches the profiles by name, in order. The foreign key to the profiles' names refuses one
   * deleted since the request was checked (a profile in use cannot be deleted either).
   */
  private async attachProfiles(tx: EntityManager, instanceId: string, names: string[]) {
    if (names.length === 0) return;
    try {
      await tx.query(
        `INSERT INTO instance_profiles (instance_id, profile_name, position) SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[])`,
        [names.map(() => instanceId), names, names.map((_, i) => i)],
      );
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err;
      throw new ValidationError('profiles', 'a listed profile does not exist');
    }
  }
}
