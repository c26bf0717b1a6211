import { Module } from '@nestjs/common';
import { QuotasModule } from '#quotas';
import { CreateProfileHandler } from './commands/create-profile/create-profile.handler.js';
import { DeleteProfileHandler } from './commands/delete-profile/delete-profile.handler.js';
import { RenameProfileHandler } from './commands/rename-profile/rename-profile.handler.js';
import { UpdateProfileHandler } from './commands/update-profile/update-profile.handler.js';
import { ProfileUsage } from './domain/profile-usage.js';
import { ProfileLifecycleHandler } from './events/profile-lifecycle.handler.js';
import { DefaultProfileLimits } from './infrastructure/default-profile-limits.js';
import { ProfileLayers } from './infrastructure/profile-layers.js';
import { ProfileRecord } from './infrastructure/profile.entity.js';
import { ProfileRepository } from './infrastructure/profile.repository.js';
import { GetProfileHandler } from './queries/get-profile/get-profile.handler.js';
import { ListProfilesHandler } from './queries/list-profiles/list-profiles.handler.js';

@Module({
  imports: [QuotasModule],
  providers: [
    ProfileRepository,
    ProfileUsage,
    CreateProfileHandler,
    UpdateProfileHandler,
    RenameProfileHandler,
    DeleteProfileHandler,
    ListProfilesHandler,
    GetProfileHandler,
    ProfileLifecycleHandler,
    ProfileLayers,
    DefaultProfileLimits,
  ],
  exports: [ProfileLayers],
})
export class ProfilesModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [ProfileRecord];
}
