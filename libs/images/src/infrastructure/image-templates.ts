import { join } from 'node:path';
import { LiquidError } from 'liquidjs';
import { GuestRoot, NativeCallError } from '#runtime';
import { parseImageMetadata, type TemplateTrigger } from '../domain/image-metadata.js';
import { MAX_TEMPLATE_BYTES, renderTemplate, type TemplateInstance } from '../domain/template-renderer.js';

export type { TemplateInstance } from '../domain/template-renderer.js';

/** What `applyImageTemplates` did: the files written, and the templates left out with the reason. */
export interface TemplateReport {
  readonly rendered: string[];
  readonly skipped: { readonly path: string; readonly reason: string }[];
}

/**
 * Renders the templates of an instance's image whose `when` holds `trigger` into its rootfs.
 * `volume` is the instance's root volume, a clone of the image volume: `metadata.yaml` and
 * `templates/` beside `rootfs/`, where neither the container nor the image can move them.
 *
 * Every access goes through GuestRoot (openat2 RESOLVE_IN_ROOT): templates are read inside
 * `templates/`, files are written inside `rootfs/` (atomically; a symlink at the path is replaced,
 * never written through; missing parents are made 0755). An existing file keeps its owner and
 * mode, a new one is 0644 and owned like its directory; `create_only` leaves an existing file
 * alone. A template that fails to read, parse, render or write is skipped and reported, as the
 * instance works without it. A volume without metadata.yaml (an empty or imported root) has none.
 */
export async function applyImageTemplates(
  volume: string,
  trigger: TemplateTrigger,
  instance: TemplateInstance,
  options: { nativeDir?: string } = {},
): Promise<TemplateReport> {
  const report: TemplateReport = { rendered: [], skipped: [] };
  const top = new GuestRoot(volume, options);
  const stat = await top.lstatIfExists('metadata.yaml');
  if (stat === null || stat.type !== 'file') return report;
  const metadata = parseImageMetadata(await top.readText('metadata.yaml', { maxBytes: MAX_TEMPLATE_BYTES }));
  const chosen = metadata.templates.filter((t) => t.when.includes(trigger));
  if (chosen.length === 0) return report;
  const templates = new GuestRoot(join(volume, 'templates'), options);
  const rootfs = new GuestRoot(join(volume, 'rootfs'), options);
  for (const template of chosen) {
    try {
      const existing = await rootfs.lstatIfExists(template.path);
      if (existing !== null && template.createOnly) continue;
      const text = await templates.readText(template.template, { maxBytes: MAX_TEMPLATE_BYTES });
      const output = await renderTemplate(text, { trigger, path: template.path, instance, properties: template.properties });
      const parent = template.path.slice(0, template.path.lastIndexOf('/'));
      if (parent !== '') await rootfs.mkdir(parent, { recursive: true, mode: 0o755 });
      await rootfs.writeFile(template.path, output, existing?.type === 'file' ? {} : { mode: 0o644 });
      report.rendered.push(template.path);
    } catch (error) {
      if (!(error instanceof LiquidError || error instanceof NativeCallError || isRenderLimit(error))) throw error;
      report.skipped.push({ path: template.path, reason: `${template.template}: ${error.message.split('\n')[0]}` });
    }
  }
  return report;
}

function isRenderLimit(error: unknown): error is Error {
  return error instanceof Error && error.message.startsWith('the rendered file exceeds');
}
