import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The client's part of a pool (`storage_pools`); the pool itself is on disk. */
@Entity({ name: 'storage_pools' })
export class StoragePoolRecord {
  @PrimaryColumn('text') name!: string;
  @Column('text') description!: string;
  @Column('jsonb') config!: Record<string, string>;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
