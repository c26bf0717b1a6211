import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, NotFoundError, type Database } from '#core';
import type { Condition, WarningStatus } from '../domain/warning.js';
import { WarningRecord } from './warning.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = () => new NotFoundError('Warning not found');

/** What a check changed: the warnings it raised anew (or again after they were resolved), and those it resolved. */
export interface CheckOutcome {
  readonly raised: string[];
  readonly resolved: string[];
}

/** The `warnings` table: the only one the warnings context owns. */
@Injectable()
export class WarningRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  list(status?: WarningStatus): Promise<WarningRecord[]> {
    return this.db.dataSource.manager.find(WarningRecord, { where: status ? { status } : {}, order: { firstSeenAt: 'ASC', uuid: 'ASC' } });
  }

  async get(uuid: string): Promise<WarningRecord> {
    const row = UUID.test(uuid) ? await this.db.dataSource.manager.findOneBy(WarningRecord, { uuid }) : null;
    if (!row) throw notFound();
    return row;
  }

  /**
   * Records what one check found, in one transaction: each condition present is inserted, or its
   * row's count, last_seen_at and message bumped (a resolved one becomes new again, as in LXD);
   * each warning of the check's `types` whose condition is gone becomes resolved.
   */
  async recordCheck(types: readonly string[], present: readonly Condition[]): Promise<CheckOutcome> {
    return this.db.dataSource.manager.transaction(async (tx) => {
      const raised: string[] = [];
      for (const c of present) {
        const [before] = (await tx.query(`SELECT status FROM warnings WHERE type = $1 AND entity_url = $2 FOR UPDATE`, [c.type, c.entityUrl])) as Array<{ status: WarningStatus }>;
        const [row] = (await tx.query(
          `INSERT INTO warnings (uuid, type, entity_url, severity, last_message) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT ON CONSTRAINT warnings_type_entity_key DO UPDATE SET
             count = warnings.count + 1, last_seen_at = now(), last_message = EXCLUDED.last_message, severity = EXCLUDED.severity,
             status = CASE warnings.status WHEN 'resolved' THEN 'new' ELSE warnings.status END,
             updated_at = CASE warnings.status WHEN 'resolved' THEN now() ELSE warnings.updated_at END
           RETURNING uuid`,
          [randomUUID(), c.type, c.entityUrl, c.severity, c.message],
        )) as Array<{ uuid: string }>;
        if (row && (before === undefined || before.status === 'resolved')) raised.push(row.uuid);
      }
      const keys = present.map((c) => `${c.type}\n${c.entityUrl}`);
      const resolved = (await tx.query(
        `UPDATE warnings SET status = 'resolved', updated_at = now()
         WHERE type = ANY($1) AND status <> 'resolved' AND NOT (type || chr(10) || entity_url = ANY($2))
         RETURNING uuid`,
        [types, keys],
      )) as [Array<{ uuid: string }>, number];
      return { raised, resolved: resolved[0].map((r) => r.uuid) };
    });
  }

  /** Sets a warning's status; a 404 when there is no such warning. */
  async setStatus(uuid: string, status: WarningStatus): Promise<void> {
    const row = await this.get(uuid);
    await this.db.dataSource.manager.update(WarningRecord, { uuid: row.uuid }, { status, updatedAt: new Date() });
  }

  /** Removes a warning; a 404 when there is no such warning. */
  async delete(uuid: string): Promise<void> {
    const res = UUID.test(uuid) ? await this.db.dataSource.manager.delete(WarningRecord, { uuid }) : { affected: 0 };
    if (!res.affected) throw notFound();
  }
}
