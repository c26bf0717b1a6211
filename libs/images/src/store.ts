/* The image store: persistence, API use cases and volumes (exported through index.ts). */
export { ImagesModule } from './images.module.js';
export { ImageRecord, ImageAliasRecord } from './infrastructure/image.entity.js';
export { ImageVolumes } from './infrastructure/image-volumes.js';
export { validateAliasName, validateProperties, type ImageView, type AliasView } from './domain/image-record.js';
export type { ImportOptions, UploadLayout } from './domain/image-upload.js';
export * from './domain/image-store.errors.js';
export { ImportImageCommand } from './commands/import-image/import-image.command.js';
export { PublishImageCommand, type PublishSource } from './commands/publish-image/publish-image.command.js';
export { DeleteImageCommand } from './commands/delete-image/delete-image.command.js';
export { UpdateImageCommand } from './commands/update-image/update-image.command.js';
export { CreateAliasCommand } from './commands/create-alias/create-alias.command.js';
export { UpdateAliasCommand } from './commands/update-alias/update-alias.command.js';
export { RenameAliasCommand } from './commands/rename-alias/rename-alias.command.js';
export { DeleteAliasCommand } from './commands/delete-alias/delete-alias.command.js';
export { ListImagesQuery } from './queries/list-images/list-images.query.js';
export { GetImageQuery } from './queries/get-image/get-image.query.js';
export { ListAliasesQuery } from './queries/list-aliases/list-aliases.query.js';
export { GetAliasQuery } from './queries/get-alias/get-alias.query.js';
