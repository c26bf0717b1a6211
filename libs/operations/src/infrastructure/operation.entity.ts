import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OperationClass } from '../domain/operation.js';

@Entity({ name: 'operations' })
export class OperationRecord {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') class!: OperationClass;
  @Column('text') description!: string;
  @Column('integer', { name: 'status_code' }) statusCode!: number;
  @Column('jsonb') resources!: Record<string, string[]>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  @Column('jsonb') metadata!: Record<string, any>;
  @Column('boolean', { name: 'may_cancel' }) mayCancel!: boolean;
  @Column('text') err!: string;
  /** `hostname:BERTH_DIR` of the daemon running it; a restart of that daemon fails its leftovers. */
  @Column('text') owner!: string;
  @Column('uuid', { name: 'boot_id' }) bootId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
