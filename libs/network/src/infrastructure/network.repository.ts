import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AlreadyExistsError, DATABASE, isUniqueViolation, NotFoundError, type Database } from '#core';
import { NetworkRecord } from './network.entity.js';

/** What a client can set on a network, as its row keeps it. */
export interface NetworkFields {
  readonly name: string;
  readonly description: string;
  readonly config: Record<string, string>;
}

/** The network's rows (`networks`): the only table the network context owns. */
@Injectable()
export class NetworkRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  private get manager(): EntityManager {
    return this.db.dataSource.manager;
  }

  /** Every network, by name. */
  list(): Promise<NetworkRecord[]> {
    return this.manager.find(NetworkRecord, { order: { name: 'ASC' } });
  }

  async get(name: string): Promise<NetworkRecord> {
    const row = await this.manager.findOneBy(NetworkRecord, { name });
    if (!row) throw notFound(name);
    return row;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.manager.findOneBy(NetworkRecord, { name })) !== null;
  }

  /** A taken name is a 409, even when another request took it since it was checked. */
  async insert({ name, description, config }: NetworkFields): Promise<void> {
    await this.manager.insert(NetworkRecord, { name, type: 'bridge', description, config }).catch((err: unknown) => {
      throw isUniqueViolation(err) ? alreadyExists(name) : err;
    });
  }

  async delete(name: string): Promise<void> {
    await this.manager.delete(NetworkRecord, { name });
  }

  /**
   * Runs `change` in a transaction that holds the network's row FOR UPDATE (changes to one network
   * are serialized), with the other networks' rows, and writes the fields it returns. A failure of
   * `change` or of the write leaves the row as it was.
   */
  async change(name: string, change: (row: NetworkRecord, others: NetworkRecord[]) => Promise<Partial<NetworkFields>>): Promise<void> {
    await this.manager.transaction(async (tx) => {
      const row = await tx.findOne(NetworkRecord, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound(name);
      const others = (await tx.find(NetworkRecord, { order: { name: 'ASC' } })).filter((r) => r.id !== row.id);
      const fields = await change(row, others);
      await tx.update(NetworkRecord, { id: row.id }, { ...fields, updatedAt: () => 'now()' }).catch((err: unknown) => {
        throw isUniqueViolation(err) ? alreadyExists(fields.name ?? name) : err;
      });
    });
  }
}

const notFound = (name: string) => new NotFoundError(`Network not found: "${name}"`);
const alreadyExists = (name: string) => new AlreadyExistsError(`Network "${name}" already exists`);
