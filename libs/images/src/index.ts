/**
 * The images context's public surface: the image store's commands and queries (and the upload
 * options they carry), the ports through which instances render templates and publish, and the
 * hardened rootfs extraction migrate reads guests with.
 */

export { ImagesModule } from './images.module.js';

// Commands and queries, and what the API hands them.
export { ImportImageCommand } from './commands/import-image/import-image.command.js';
export { BuildImageCommand, type BuildImageOptions } from './commands/build-image/build-image.command.js';
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
export type { ImportOptions, UploadLayout } from './domain/image-upload.js';
export { validateAliasName, validateProperties } from './domain/image-record.js';
export { parsePublishOptions } from './publish/publish-options.js';

// The instances context's ports: templates applied to a new or starting instance, publishing.
export { InstanceTemplates } from './infrastructure/instance-templates.js';
export { InstanceMetadataStore } from './infrastructure/instance-metadata-store.js';
export { mergeApiMetadata, type ApiImageMetadata } from './domain/instance-metadata.js';
export { ImagePublisher, type PublishSource } from './publish/image-publisher.js';

// Safe extraction of a rootfs tarball, for migrate's guests.
export { unpackRootfsArchive, type AdmittedTree, type RootfsArchive, type UnpackedRootfs } from './infrastructure/unpack-rootfs.js';
export { detectCompression } from './infrastructure/decompression.js';
