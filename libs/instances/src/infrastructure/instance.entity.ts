import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { InstanceStatusName } from '../domain/instance-status.js';

@Entity({ name: 'instances' })
export class InstanceRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('text') name!: string;
  @Column('text') type!: 'container';
  @Column('text') description!: string;
  @Column('text') architecture!: string;
  @Column('boolean') ephemeral!: boolean;
  @Column('text') status!: InstanceStatusName;
  @Column('jsonb') config!: Record<string, string>;
  @Column('jsonb') devices!: Record<string, Record<string, string>>;
  @Column('jsonb') volatile!: Record<string, string>;
  @Column('text', { name: 'image_fingerprint', nullable: true }) imageFingerprint!: string | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
