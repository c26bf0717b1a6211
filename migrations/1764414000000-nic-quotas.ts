import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Typed nic quotas: one row per `type=nic` device of an instance or profile that sets
 * `limits.ingress`, `limits.egress` or `limits.max`, in bit/s as given (`max` is kept beside the
 * other two; it wins when the host applies them). Written in the transaction that stores the devices.
 */
export class NicQuotas1764414000000 implements MigrationInterface {
  name = 'NicQuotas1764414000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE nic_quotas (
        id          bigserial   NOT NULL,
        instance_id bigint,
        profile_id  bigint,
        device      text        NOT NULL,
        ingress_bps bigint,
        egress_bps  bigint,
        max_bps     bigint,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT nic_quotas_pkey PRIMARY KEY (id),
        CONSTRAINT nic_quotas_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE,
        CONSTRAINT nic_quotas_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles (id) ON DELETE CASCADE,
        CONSTRAINT nic_quotas_instance_device_key UNIQUE (instance_id, device),
        CONSTRAINT nic_quotas_profile_device_key UNIQUE (profile_id, device),
        CONSTRAINT nic_quotas_owner_check CHECK ((instance_id IS NULL) <> (profile_id IS NULL)),
        CONSTRAINT nic_quotas_some_limit_check CHECK (ingress_bps IS NOT NULL OR egress_bps IS NOT NULL OR max_bps IS NOT NULL),
        CONSTRAINT nic_quotas_ingress_bps_check CHECK (ingress_bps IS NULL OR ingress_bps > 0),
        CONSTRAINT nic_quotas_egress_bps_check CHECK (egress_bps IS NULL OR egress_bps > 0),
        CONSTRAINT nic_quotas_max_bps_check CHECK (max_bps IS NULL OR max_bps > 0)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE nic_quotas`);
  }
}
