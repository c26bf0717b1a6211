import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Typed quotas: one row per profile (and, once instances exist, per instance) holding the parsed
 * form of its `limits.*` keys. The raw keys stay in the owner's config; this is what the host applies
 * and what committed totals are computed from.
 */
export class Quotas1764385200000 implements MigrationInterface {
  name = 'Quotas1764385200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE quotas (
        id                    bigserial   NOT NULL,
        profile_id            bigint,
        cpu_count             integer,
        cpu_set               integer[],
        cpu_allowance_percent smallint,
        cpu_quota_us          integer,
        cpu_period_us         integer,
        cpu_priority          smallint,
        memory_bytes          bigint,
        memory_percent        smallint,
        memory_enforce        text,
        memory_swap           text,
        memory_swap_bytes     bigint,
        processes             integer,
        disk_priority         smallint,
        updated_at            timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT quotas_pkey PRIMARY KEY (id),
        CONSTRAINT quotas_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles (id) ON DELETE CASCADE,
        CONSTRAINT quotas_profile_id_key UNIQUE (profile_id),
        CONSTRAINT quotas_owner_check CHECK (profile_id IS NOT NULL),
        CONSTRAINT quotas_cpu_count_check CHECK (cpu_count IS NULL OR cpu_count >= 1),
        CONSTRAINT quotas_cpu_allowance_percent_check CHECK (cpu_allowance_percent IS NULL OR cpu_allowance_percent BETWEEN 1 AND 100),
        CONSTRAINT quotas_cpu_quota_check CHECK (cpu_quota_us IS NULL OR (cpu_period_us IS NOT NULL AND cpu_quota_us <= cpu_period_us)),
        CONSTRAINT quotas_cpu_priority_check CHECK (cpu_priority IS NULL OR cpu_priority BETWEEN 0 AND 10),
        CONSTRAINT quotas_memory_bytes_check CHECK (memory_bytes IS NULL OR memory_bytes >= 1048576),
        CONSTRAINT quotas_memory_percent_check CHECK (memory_percent IS NULL OR memory_percent BETWEEN 1 AND 100),
        CONSTRAINT quotas_memory_enforce_check CHECK (memory_enforce IS NULL OR memory_enforce IN ('hard', 'soft')),
        CONSTRAINT quotas_memory_swap_check CHECK (memory_swap IS NULL OR memory_swap IN ('on', 'off', 'bytes')),
        CONSTRAINT quotas_processes_check CHECK (processes IS NULL OR processes >= 1),
        CONSTRAINT quotas_disk_priority_check CHECK (disk_priority IS NULL OR disk_priority BETWEEN 0 AND 10)
      )`);
    await db.query(`INSERT INTO quotas (profile_id) SELECT id FROM profiles`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE quotas`);
  }
}
