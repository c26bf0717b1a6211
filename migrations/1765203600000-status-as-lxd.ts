import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Ready` is LXD's: the guest's own declaration through the guest API, no longer systemd's
 * READY=1. Every instance recorded Ready so far was so by systemd: it is Running, and the flag
 * systemd's READY=1 set (`volatile.last_state.ready`) goes. Back down, an instance whose
 * READY=1 was announced (`volatile.boot.ready`) is Ready with the flag again.
 */
export class StatusAsLxd1765203600000 implements MigrationInterface {
  name = 'StatusAsLxd1765203600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`UPDATE instances SET status = 'Running' WHERE status = 'Ready'`);
    await db.query(`UPDATE instances SET volatile = volatile - 'volatile.last_state.ready' WHERE volatile ? 'volatile.last_state.ready'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `UPDATE instances SET status = 'Ready', volatile = (volatile - 'volatile.boot.ready') || '{"volatile.last_state.ready": "true"}'::jsonb
        WHERE status = 'Running' AND volatile ? 'volatile.boot.ready'`,
    );
    await db.query(`UPDATE instances SET volatile = volatile - 'volatile.boot.ready' WHERE volatile ? 'volatile.boot.ready'`);
  }
}
