/**
 * How an uploaded image's bytes are laid out: one tarball (LXD's unified image), or a
 * multipart/form-data body whose `metadata` and `rootfs` parts are a split image.
 */
export type UploadLayout = { readonly kind: 'raw' } | { readonly kind: 'multipart'; readonly boundary: string };

/** What is recorded with an imported image besides its files (LXD's upload headers, or a publish body). */
export interface ImportOptions {
  /** The sha256 the client says the upload has: a different one is refused. */
  readonly expectedFingerprint?: string;
  readonly public: boolean;
  readonly filename: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly aliases: ReadonlyArray<{ readonly name: string; readonly description: string }>;
}
