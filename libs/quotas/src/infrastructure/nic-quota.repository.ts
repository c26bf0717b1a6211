import type { EntityManager } from 'typeorm';
import { parseBitRate } from '../domain/bit-rate.js';

/** One nic's `limits.ingress`, `limits.egress` and `limits.max`, in bit/s, as its owner set them. */
export interface NicQuotaRow {
  readonly device: string;
  readonly ingress: number | null;
  readonly egress: number | null;
  readonly max: number | null;
}

type Owner = { readonly column: 'instance_id' | 'profile_id'; readonly id: string };
type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * Typed rows of the nic limits of an owner's own `type=nic` devices (not the ones its profiles give
 * it), in `nic_quotas`. Written from the devices the caller's transaction has just stored, so that
 * the rows always change together with them; a limit that does not parse fails that transaction.
 */
export const NicQuotaRows = {
  saveForInstance(tx: EntityManager, instanceId: string, devices: Devices): Promise<void> {
    return save(tx, { column: 'instance_id', id: instanceId }, devices);
  },

  saveForProfile(tx: EntityManager, profileId: string, devices: Devices): Promise<void> {
    return save(tx, { column: 'profile_id', id: profileId }, devices);
  },

  async forInstance(tx: EntityManager, instanceId: string): Promise<NicQuotaRow[]> {
    return load(tx, { column: 'instance_id', id: instanceId });
  },

  async forProfile(tx: EntityManager, profileId: string): Promise<NicQuotaRow[]> {
    return load(tx, { column: 'profile_id', id: profileId });
  },
};

/** The rows the devices call for: one per nic with at least one limit set. */
export function nicQuotaRows(devices: Readonly<Record<string, Readonly<Record<string, string>>>>): NicQuotaRow[] {
  const rows: NicQuotaRow[] = [];
  for (const [device, spec] of Object.entries(devices).sort(([a], [b]) => a.localeCompare(b))) {
    if (spec.type !== 'nic') continue;
    const field = (key: string) => (spec[key] === undefined || spec[key] === '' ? null : parseBitRate(`devices["${device}"]["${key}"]`, spec[key]));
    const row = { device, ingress: field('limits.ingress'), egress: field('limits.egress'), max: field('limits.max') };
    if (row.ingress !== null || row.egress !== null || row.max !== null) rows.push(row);
  }
  return rows;
}

async function save(tx: EntityManager, owner: Owner, devices: Devices): Promise<void> {
  await tx.query(`DELETE FROM nic_quotas WHERE ${owner.column} = $1`, [owner.id]);
  for (const row of nicQuotaRows(devices)) {
    await tx.query(`INSERT INTO nic_quotas (${owner.column}, device, ingress_bps, egress_bps, max_bps) VALUES ($1, $2, $3, $4, $5)`, [
      owner.id,
      row.device,
      row.ingress,
      row.egress,
      row.max,
    ]);
  }
}

async function load(tx: EntityManager, owner: Owner): Promise<NicQuotaRow[]> {
  const rows: Array<{ device: string; ingress_bps: string | null; egress_bps: string | null; max_bps: string | null }> = await tx.query(
    `SELECT device, ingress_bps, egress_bps, max_bps FROM nic_quotas WHERE ${owner.column} = $1 ORDER BY device`,
    [owner.id],
  );
  const n = (v: string | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({ device: r.device, ingress: n(r.ingress_bps), egress: n(r.egress_bps), max: n(r.max_bps) }));
}
