import { ImagesModule } from '#images';
import { InstancesModule } from '#instances';
import { MigrateModule } from '#migrate';
import { NetworkModule } from '#network';
import { OperationsModule } from '#operations';
import { ProfilesModule } from '#profiles';
import { QuotasModule } from '#quotas';
import { ServerModule } from '#server';
import { WarningsModule } from '#warnings';

/** Every TypeORM entity of every context, for the one DataSource. */
export const entities = [
  ...ProfilesModule.entities,
  ...OperationsModule.entities,
  ...QuotasModule.entities,
  ...InstancesModule.entities,
  ...ServerModule.entities,
  ...ImagesModule.entities,
  ...NetworkModule.entities,
  ...MigrateModule.entities,
  ...WarningsModule.entities,
];
