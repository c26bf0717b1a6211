import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ImageFiles } from './unpack-image.js';

/**
 * The fingerprint LXD gives an image: sha256 of the unified tarball, or of the metadata tarball's
 * bytes followed by the rootfs tarball's, over the files as given (compressed). unpackImage
 * computes the same value during extraction; this is for files that are not being unpacked
 * (export, re-publish, checking an upload before queueing it).
 */
export async function fingerprintImageFiles(files: ImageFiles): Promise<string> {
  const hash = createHash('sha256');
  const paths = files.kind === 'unified' ? [files.path] : [files.metadataPath, files.rootfsPath];
  for (const path of paths) {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  }
  return hash.digest('hex');
}
