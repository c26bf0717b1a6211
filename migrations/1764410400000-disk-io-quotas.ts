import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disk I/O limits in the typed quotas: the root disk's `limits.read` and `limits.write` (or
 * `limits.max`, which sets both), each either bytes or operations per second, never both.
 */
export class DiskIoQuotas1764410400000 implements MigrationInterface {
  name = 'DiskIoQuotas1764410400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE quotas
        ADD COLUMN disk_read_bps   bigint,
        ADD COLUMN disk_read_iops  integer,
        ADD COLUMN disk_write_bps  bigint,
        ADD COLUMN disk_write_iops integer,
        ADD CONSTRAINT quotas_disk_read_check CHECK ((disk_read_bps IS NULL OR disk_read_bps > 0) AND (disk_read_iops IS NULL OR disk_read_iops > 0) AND (disk_read_bps IS NULL OR disk_read_iops IS NULL)),
        ADD CONSTRAINT quotas_disk_write_check CHECK ((disk_write_bps IS NULL OR disk_write_bps > 0) AND (disk_write_iops IS NULL OR disk_write_iops > 0) AND (disk_write_bps IS NULL OR disk_write_iops IS NULL))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE quotas
        DROP CONSTRAINT quotas_disk_write_check,
        DROP CONSTRAINT quotas_disk_read_check,
        DROP COLUMN disk_write_iops,
        DROP COLUMN disk_write_bps,
        DROP COLUMN disk_read_iops,
        DROP COLUMN disk_read_bps`);
  }
}
