import { Query } from '@nestjs/cqrs';

/**
 * GET /1.0/instances/{name}/metadata/templates[?path=]: without a path, the names of the files in
 * the volume's templates/; with one, that template's content.
 */
export class GetInstanceTemplateQuery extends Query<{ kind: 'list'; names: string[] } | { kind: 'file'; content: Buffer }> {
  constructor(readonly name: string, readonly path: string | undefined) {
    super();
  }
}
