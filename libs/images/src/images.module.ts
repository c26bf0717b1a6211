import { Module } from '@nestjs/common';
import { StorageModule } from '#storage';
import { BuildImageHandler } from './commands/build-image/build-image.handler.js';
import { CreateAliasHandler } from './commands/create-alias/create-alias.handler.js';
import { DeleteAliasHandler } from './commands/delete-alias/delete-alias.handler.js';
import { DeleteImageHandler } from './commands/delete-image/delete-image.handler.js';
import { ImportImageHandler } from './commands/import-image/import-image.handler.js';
import { ImagePublisher } from './publish/image-publisher.js';
import { RenameAliasHandler } from './commands/rename-alias/rename-alias.handler.js';
import { UpdateAliasHandler } from './commands/update-alias/update-alias.handler.js';
import { UpdateImageHandler } from './commands/update-image/update-image.handler.js';
import { ImageLifecycleHandler } from './events/image-lifecycle.handler.js';
import { ImageFileStore } from './infrastructure/image-files.js';
import { ImageImporter } from './infrastructure/image-importer.js';
import { ImageAliasRecord, ImageRecord } from './infrastructure/image.entity.js';
import { ImageRepository } from './infrastructure/image.repository.js';
import { ImageVolumes } from './infrastructure/image-volumes.js';
import { InstanceTemplates } from './infrastructure/instance-templates.js';
import { InstanceMetadataStore } from './infrastructure/instance-metadata-store.js';
import { RecipeArchives } from './infrastructure/recipe-archives.js';
import { RecipeImageBuilder } from './infrastructure/recipe-image-builder.js';
import { UnfinishedImports } from './infrastructure/unfinished-imports.js';
import { GetAliasHandler } from './queries/get-alias/get-alias.handler.js';
import { GetImageHandler } from './queries/get-image/get-image.handler.js';
import { ListAliasesHandler } from './queries/list-aliases/list-aliases.handler.js';
import { ListImagesHandler } from './queries/list-images/list-images.handler.js';

@Module({
  imports: [StorageModule],
  providers: [
    ImageRepository,
    ImageFileStore,
    ImageVolumes,
    ImageImporter,
    RecipeArchives,
    RecipeImageBuilder,
    ImportImageHandler,
    BuildImageHandler,
    ImagePublisher,
    DeleteImageHandler,
    UpdateImageHandler,
    CreateAliasHandler,
    UpdateAliasHandler,
    RenameAliasHandler,
    DeleteAliasHandler,
    ListImagesHandler,
    GetImageHandler,
    ListAliasesHandler,
    GetAliasHandler,
    ImageLifecycleHandler,
    InstanceTemplates,
    InstanceMetadataStore,
    UnfinishedImports,
  ],
  exports: [ImageVolumes, InstanceTemplates, InstanceMetadataStore, ImagePublisher],
})
export class ImagesModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [ImageRecord, ImageAliasRecord];
}
