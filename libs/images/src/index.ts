export { unpackImage, type ImageFiles, type UnpackImageRequest, type UnpackedImage, type UnpackProgress } from './infrastructure/unpack-image.js';
export { unpackRootfsArchive, ROOTFS_EXTRACTION_LIMITS, type AdmittedKind, type AdmittedTree, type RootfsArchive, type UnpackRootfsRequest, type UnpackedRootfs } from './infrastructure/unpack-rootfs.js';
export { fingerprintImageFiles } from './infrastructure/image-fingerprint.js';
export { removeExtractedTree, locateUnpackHelper, type IdShift } from './infrastructure/unpack-helper.js';
export { detectCompression, type Compression } from './infrastructure/decompression.js';
export { parseImageMetadata, type ImageMetadata, type ImageTemplate, type TemplateTrigger } from './domain/image-metadata.js';
export { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits } from './domain/extraction-limits.js';
export * from './domain/image.errors.js';
export * from './store.js';
