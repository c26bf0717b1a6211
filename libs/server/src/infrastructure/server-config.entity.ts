import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'server_config' })
export class ServerConfigRecord {
  @PrimaryColumn('text') key!: string;
  @Column('text') value!: string;
}
