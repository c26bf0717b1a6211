import { Module } from '@nestjs/common';
import { ImagesModule } from '#images';
import { ProfilesModule } from '#profiles';
import { QuotasModule } from '#quotas';
import { RuntimeModule } from '#runtime';
import { ServerModule } from '#server';
import { StorageModule } from '#storage';
import { NetworkModule } from '#network';
import { ChangeInstanceStateHandler } from './commands/change-instance-state/change-instance-state.handler.js';
import { ExecInInstanceHandler } from './commands/exec-in-instance/exec-in-instance.handler.js';
import { CreateInstanceHandler } from './commands/create-instance/create-instance.handler.js';
import { DeleteInstanceHandler } from './commands/delete-instance/delete-instance.handler.js';
import { RenameInstanceHandler } from './commands/rename-instance/rename-instance.handler.js';
import { UpdateInstanceHandler } from './commands/update-instance/update-instance.handler.js';
import { DeleteInstanceFileHandler, GetInstanceFileHandler, PushInstanceFileHandler } from './commands/files/instance-files.handlers.js';
import { InstanceRoots } from './commands/files/instance-root.js';
import { Autostart } from './infrastructure/autostart.js';
import { OrphanVolumes } from './infrastructure/orphan-volumes.js';
import { InstanceLifecycleHandler } from './events/instance-lifecycle.handler.js';
import { Admission } from './infrastructure/admission.js';
import { IdMaps } from './infrastructure/id-maps.js';
import { HostTeardown } from './infrastructure/host-teardown.js';
import { PluggedInits } from './infrastructure/plugged-inits.js';
import { FailedUnits } from './infrastructure/failed-units.js';
import { ConsoleLogs, ExecLogs } from './infrastructure/exec-logs.js';
import { AttachConsoleHandler } from './commands/attach-console/attach-console.handler.js';
import { ClearConsoleLogHandler } from './commands/attach-console/clear-console-log.handler.js';
import { Reconciler } from './infrastructure/reconciler.js';
import { ImageResolver } from './infrastructure/image-resolver.js';
import { InstanceRecord } from './infrastructure/instance.entity.js';
import { InstanceRepository } from './infrastructure/instance.repository.js';
import { ProfileResolver } from './infrastructure/profile-resolver.js';
import { GetInstanceHandler } from './queries/get-instance/get-instance.handler.js';
import { GetResourcesHandler } from './queries/get-resources/get-resources.handler.js';
import { GetInstanceStateHandler, LiveState } from './queries/get-instance-state/get-instance-state.handler.js';
import { ListInstancesHandler } from './queries/list-instances/list-instances.handler.js';
import { ListProfileUsersHandler } from './queries/list-profile-users.handler.js';
import { ListVolumeOwnersHandler } from './queries/list-volume-owners.handler.js';
import { HoldInstanceHandler, ReleaseInstanceHandler } from './commands/hold-instance/hold-instance.handler.js';
import { PublishInstanceHandler } from './commands/publish-instance/publish-instance.handler.js';
import { PreviewInstanceHandler } from './queries/preview-instance/preview-instance.handler.js';
import { GetInstanceMetadataHandler } from './queries/get-instance-metadata/get-instance-metadata.handler.js';
import { GetInstanceTemplateHandler } from './queries/get-instance-template/get-instance-template.handler.js';
import { UpdateInstanceMetadataHandler } from './commands/update-instance-metadata/update-instance-metadata.handler.js';
import { SetInstanceTemplateHandler } from './commands/set-instance-template/set-instance-template.handler.js';
import { DeleteInstanceTemplateHandler } from './commands/delete-instance-template/delete-instance-template.handler.js';
import { InstanceMetadataLifecycleHandler } from './events/instance-metadata-lifecycle.handler.js';
import { InstanceVolumes } from './infrastructure/instance-volume.js';
import { ListNetworkUsersHandler } from './queries/list-network-users/list-network-users.handler.js';
import { DeclareGuestStateHandler } from './commands/declare-guest-state/declare-guest-state.handler.js';

@Module({
  exports: [ExecLogs, ConsoleLogs, OrphanVolumes],
  imports: [QuotasModule, ServerModule, StorageModule, NetworkModule, ImagesModule, RuntimeModule, ProfilesModule],
  providers: [
    InstanceRepository,
    ProfileResolver,
    Admission,
    ImageResolver,
    CreateInstanceHandler,
    ChangeInstanceStateHandler,
    IdMaps,
    PluggedInits,
    FailedUnits,
    LiveState,
    ExecLogs,
    Reconciler,
    ExecInInstanceHandler,
    ConsoleLogs,
    AttachConsoleHandler,
    ClearConsoleLogHandler,
    UpdateInstanceHandler,
    RenameInstanceHandler,
    DeleteInstanceHandler,
    ListInstancesHandler,
    GetInstanceHandler,
    PreviewInstanceHandler,
    PublishInstanceHandler,
    HoldInstanceHandler,
    ReleaseInstanceHandler,
    ListNetworkUsersHandler,
    GetResourcesHandler,
    GetInstanceStateHandler,
    ListProfileUsersHandler,
    ListVolumeOwnersHandler,
    InstanceLifecycleHandler,
    InstanceRoots,
    GetInstanceFileHandler,
    PushInstanceFileHandler,
    DeleteInstanceFileHandler,
    Autostart,
    OrphanVolumes,
    DeclareGuestStateHandler,
    HostTeardown,
    InstanceVolumes,
    GetInstanceMetadataHandler,
    GetInstanceTemplateHandler,
    UpdateInstanceMetadataHandler,
    SetInstanceTemplateHandler,
    DeleteInstanceTemplateHandler,
    InstanceMetadataLifecycleHandler,
  ],
})
export class InstancesModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [InstanceRecord];
}
