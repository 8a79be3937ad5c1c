/** An error that the HTTP layer renders in Elasticsearch's shape: `{error: {root_cause, type, reason, ...}, status}`. */
export class EsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly reason: string,
    /** Extra keys ES puts next to type/reason, e.g. `index`, `resource.id`. */
    readonly extra: Record<string, unknown> = {},
    /** The wrapped error, rendered as `caused_by` (e.g. "Failed to parse mapping: ..." around the field's error). */
    readonly causedBy?: EsError,
  ) {
    super(reason);
    this.name = 'EsError';
  }

  /** The `error` object (also used for per-item bulk errors). */
  toCause(): Record<string, unknown> {
    const cause: Record<string, unknown> = { type: this.type, reason: this.reason, ...this.extra };
    if (this.causedBy !== undefined) cause.caused_by = this.causedBy.toCause();
    return cause;
  }

  toBody(): Record<string, unknown> {
    // ES reports the innermost cause as the root cause.
    let root: EsError = this;
    while (root.causedBy !== undefined) root = root.causedBy;
    const rootCause = { type: root.type, reason: root.reason, ...root.extra };
    return { error: { root_cause: [rootCause], ...this.toCause() }, status: this.status };
  }
}

export function indexNotFound(name: string): EsError {
  return new EsError(404, 'index_not_found_exception', `no such index [${name}]`, {
    'resource.type': 'index_or_alias',
    'resource.id': name,
    index_uuid: '_na_',
    index: name,
  });
}

export function resourceAlreadyExists(name: string, uuid: string): EsError {
  return new EsError(400, 'resource_already_exists_exception', `index [${name}/${uuid}] already exists`, {
    index_uuid: uuid,
    index: name,
  });
}

export function illegalArgument(reason: string): EsError {
  return new EsError(400, 'illegal_argument_exception', reason);
}

export function parsingError(reason: string): EsError {
  return new EsError(400, 'parsing_exception', reason);
}

export function mapperParsing(reason: string, index?: string): EsError {
  return new EsError(400, 'mapper_parsing_exception', reason, index === undefined ? {} : { index });
}

export function versionConflict(index: string, uuid: string, id: string, reason: string): EsError {
  return new EsError(409, 'version_conflict_engine_exception', `[${id}]: ${reason}`, {
    index_uuid: uuid,
    shard: '0',
    index,
  });
}
