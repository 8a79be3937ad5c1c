/**
 * The catalog of indices and aliases, persisted as dataDir/catalog.json (replaced atomically), with each index's
 * documents under dataDir/indices/<uuid>/. Catalog changes (create/delete index, alias actions, mappings) are
 * serialised, made durable, then swapped into memory in one synchronous step, so readers never observe a
 * half-applied alias change.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { EsError, illegalArgument, indexNotFound, resourceAlreadyExists } from '../http/errors';
import { isErrnoException, writeFileAtomic } from '../storage/fs-util';
import { OpLog } from '../storage/op-log';
import type { AnalysisSettings } from './analysis';
import type { SearcherFactory } from './contracts';
import type { StoredMappings } from './mappings';
import type { IndexMeta } from './search-index';
import { SearchIndex } from './search-index';

export interface AliasTarget {
  is_write_index?: boolean;
}

interface Catalog {
  indices: Record<string, IndexMeta>;
  /** alias → index → alias options */
  aliases: Record<string, Record<string, AliasTarget>>;
}

export type AliasAction =
  | { add: { index: string; alias: string; isWriteIndex?: boolean } }
  | { remove: { index: string; alias: string; mustExist: boolean } }
  | { removeIndex: { index: string } };

export interface EngineOptions {
  dataDir: string;
  logger: Logger;
  searcherFactory: SearcherFactory;
  refreshIntervalMs: number;
  snapshotEveryOps: number;
  onRefresh(index: string, seconds: number): void;
  onFsync(seconds: number): void;
}

const INVALID_INDEX_CHARS = /[\\/*?"<>| ,#:]/;

export function validateIndexName(name: string): void {
  const invalid = (why: string): EsError =>
    new EsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], ${why}`, {
      index_uuid: '_na_',
      index: name,
    });
  if (name !== name.toLowerCase()) throw invalid('must be lowercase');
  if (INVALID_INDEX_CHARS.test(name))
    throw invalid('must not contain the following characters [\\, /, *, ?, ", <, >, |, , ,, #, :]');
  if (/^[-_+]/.test(name)) throw invalid("must not start with '_', '-', or '+'");
  if (name === '.' || name === '..' || name === '') throw invalid("must not be '.' or '..'");
  if (Buffer.byteLength(name) > 255) throw invalid('index name is too long');
}

/** Parses `refresh_interval` ("1s", "500ms", "-1") into milliseconds. */
export function parseInterval(value: string): number {
  if (value === '-1') return -1;
  const match = /^(\d+)(ms|s|m)?$/.exec(value);
  if (match === null)
    throw illegalArgument(`failed to parse setting [index.refresh_interval] with value [${value}]`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n : match[2] === 'm' ? n * 60_000 : n * 1000;
}

function wildcardToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

export class SearchEngine {
  private catalog: Catalog = { indices: {}, aliases: {} };
  private readonly indices = new Map<string, SearchIndex>();
  private mutex: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: EngineOptions) {}

  static async open(options: EngineOptions): Promise<SearchEngine> {
    const engine = new SearchEngine(options);
    await engine.load();
    return engine;
  }

  private get catalogPath(): string {
    return join(this.options.dataDir, 'catalog.json');
  }

  private indexDir(uuid: string): string {
    return join(this.options.dataDir, 'indices', uuid);
  }

  private async load(): Promise<void> {
    await fs.promises.mkdir(join(this.options.dataDir, 'indices'), { recursive: true });
    try {
      this.catalog = JSON.parse(await fs.promises.readFile(this.catalogPath, 'utf8')) as Catalog;
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
    }
    const known = new Set<string>();
    for (const meta of Object.values(this.catalog.indices)) {
      known.add(meta.uuid);
      const index = await this.openIndex(meta);
      this.indices.set(meta.name, index);
      this.options.logger.info({ index: meta.name, docs: index.docs.size }, 'index recovered');
    }
    // Directories of indices whose deletion (or creation) did not reach the catalog.
    for (const uuid of await fs.promises.readdir(join(this.options.dataDir, 'indices'))) {
      if (!known.has(uuid)) await fs.promises.rm(this.indexDir(uuid), { recursive: true, force: true });
    }
  }

  private async openIndex(meta: IndexMeta): Promise<SearchIndex> {
    const { log, recovered } = await OpLog.open(
      this.indexDir(meta.uuid),
      this.options.logger,
      this.options.onFsync,
    );
    const interval = meta.settings['index.refresh_interval'];
    let index: SearchIndex;
    try {
      index = new SearchIndex(
        meta,
        log,
        {
          logger: this.options.logger,
          searcherFactory: this.options.searcherFactory,
          onRefresh: this.options.onRefresh,
          snapshotEveryOps: this.options.snapshotEveryOps,
        },
        interval === undefined ? this.options.refreshIntervalMs : parseInterval(interval),
      );
      index.restore(recovered.state, recovered.ops);
    } catch (error) {
      // E.g. mappings the searcher cannot build: do not leak the open log.
      await log.close();
      throw error;
    }
    index.startRefreshTimer();
    return index;
  }

  /** Runs catalog changes one at a time. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(task, task);
    this.mutex = run.catch(() => undefined);
    return run;
  }

  private async saveCatalog(next: Catalog): Promise<void> {
    await writeFileAtomic(this.catalogPath, JSON.stringify(next));
  }

  listIndices(): SearchIndex[] {
    return [...this.indices.values()];
  }

  aliasesOf(index: string): Record<string, AliasTarget> {
    const out: Record<string, AliasTarget> = {};
    for (const [alias, targets] of Object.entries(this.catalog.aliases)) {
      const target = targets[index];
      if (target !== undefined) out[alias] = target;
    }
    return out;
  }

  allAliases(): Record<string, Record<string, AliasTarget>> {
    return this.catalog.aliases;
  }

  isAlias(name: string): boolean {
    return this.catalog.aliases[name] !== undefined;
  }

  /** The concrete index a single-document operation (write or get) on `name` goes to. */
  resolveSingle(name: string): SearchIndex {
    const index = this.indices.get(name);
    if (index !== undefined) return index;
    const targets = this.catalog.aliases[name];
    if (targets === undefined) throw indexNotFound(name);
    const names = Object.keys(targets);
    const chosen = names.length === 1 ? names[0] : names.find((n) => targets[n]?.is_write_index === true);
    if (chosen === undefined)
      throw illegalArgument(
        `no write index is defined for alias [${name}]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index`,
      );
    if (names.length === 1 && targets[names[0] ?? '']?.is_write_index === false)
      throw illegalArgument(`no write index is defined for alias [${name}]`);
    const index2 = this.indices.get(chosen);
    if (index2 === undefined) throw indexNotFound(chosen);
    return index2;
  }

  /**
   * Resolves an index expression (comma list of names, aliases, `*` patterns, `_all`) to concrete indices.
   * Unknown concrete names are index_not_found; patterns may match nothing.
   */
  resolveMany(expression: string, options: { ignoreUnavailable?: boolean } = {}): SearchIndex[] {
    const out = new Map<string, SearchIndex>();
    for (const part of expression.split(',')) {
      if (part === '') continue;
      if (part === '_all' || part.includes('*')) {
        const pattern = part === '_all' ? /^/ : wildcardToRegExp(part);
        for (const [name, index] of this.indices)
          if (pattern.test(name) && !name.startsWith('.')) out.set(name, index);
        for (const [alias, targets] of Object.entries(this.catalog.aliases)) {
          if (!pattern.test(alias)) continue;
          for (const name of Object.keys(targets)) {
            const index = this.indices.get(name);
            if (index !== undefined) out.set(name, index);
          }
        }
        continue;
      }
      const index = this.indices.get(part);
      if (index !== undefined) {
        out.set(part, index);
        continue;
      }
      const targets = this.catalog.aliases[part];
      if (targets === undefined) {
        if (options.ignoreUnavailable) continue;
        throw indexNotFound(part);
      }
      for (const name of Object.keys(targets)) {
        const target = this.indices.get(name);
        if (target !== undefined) out.set(name, target);
      }
    }
    return [...out.values()];
  }

  createIndex(
    name: string,
    mappings: StoredMappings,
    settings: Record<string, string>,
    aliases: Record<string, AliasTarget>,
    analysis?: AnalysisSettings,
  ): Promise<SearchIndex> {
    return this.exclusive(async () => {
      validateIndexName(name);
      const existing = this.catalog.indices[name];
      if (existing !== undefined) throw resourceAlreadyExists(name, existing.uuid);
      if (this.catalog.aliases[name] !== undefined)
        throw new EsError(
          400,
          'invalid_index_name_exception',
          `Invalid index name [${name}], already exists as alias`,
          {
            index: name,
          },
        );
      for (const alias of Object.keys(aliases)) {
        if (this.catalog.indices[alias] !== undefined || alias === name)
          throw new EsError(
            400,
            'invalid_alias_name_exception',
            `Invalid alias name [${alias}]: an index or data stream exists with the same name as the alias`,
          );
      }
      const meta: IndexMeta = {
        name,
        uuid: randomUUID().replaceAll('-', ''),
        mappings,
        settings,
        ...(analysis === undefined ? {} : { analysis }),
        creationDate: Date.now(),
      };
      // The directory first: a crash before the catalog write leaves an orphan that the next start removes.
      const index = await this.openIndex(meta);
      const next: Catalog = {
        indices: { ...this.catalog.indices, [name]: meta },
        aliases: { ...this.catalog.aliases },
      };
      for (const [alias, target] of Object.entries(aliases))
        next.aliases[alias] = { ...next.aliases[alias], [name]: target };
      try {
        await this.saveCatalog(next);
      } catch (error) {
        await index.close(false);
        throw error;
      }
      this.catalog = next;
      this.indices.set(name, index);
      this.options.logger.info({ index: name, uuid: meta.uuid }, 'index created');
      return index;
    });
  }

  deleteIndices(expression: string): Promise<string[]> {
    return this.exclusive(async () => {
      const names: string[] = [];
      for (const part of expression.split(',')) {
        if (part.includes('*') || part === '_all')
          throw illegalArgument(
            `Wildcard expressions or all indices are not allowed [${part}] (destructive_requires_name)`,
          );
        if (this.catalog.indices[part] !== undefined) names.push(part);
        else if (this.catalog.aliases[part] !== undefined)
          throw illegalArgument(
            `The provided expression [${part}] matches an alias, specify the corresponding concrete indices instead.`,
          );
        else throw indexNotFound(part);
      }
      const next = this.withoutIndices(this.catalog, names);
      await this.saveCatalog(next);
      this.catalog = next;
      await this.dropIndices(names);
      return names;
    });
  }

  private withoutIndices(catalog: Catalog, names: string[]): Catalog {
    const indices = { ...catalog.indices };
    const aliases: Catalog['aliases'] = {};
    for (const name of names) delete indices[name];
    for (const [alias, targets] of Object.entries(catalog.aliases)) {
      const kept = Object.fromEntries(Object.entries(targets).filter(([index]) => !names.includes(index)));
      if (Object.keys(kept).length > 0) aliases[alias] = kept;
    }
    return { indices, aliases };
  }

  private async dropIndices(names: string[]): Promise<void> {
    for (const name of names) {
      const index = this.indices.get(name);
      if (index === undefined) continue;
      this.indices.delete(name);
      await index.close(false);
      await fs.promises.rm(index.log.dir, { recursive: true, force: true });
      this.options.logger.info({ index: name }, 'index deleted');
    }
  }

  /** Applies alias actions all-or-nothing (ES `_aliases`). */
  updateAliases(actions: AliasAction[]): Promise<void> {
    return this.exclusive(async () => {
      let next: Catalog = {
        indices: this.catalog.indices,
        aliases: Object.fromEntries(Object.entries(this.catalog.aliases).map(([a, t]) => [a, { ...t }])),
      };
      const removedIndices: string[] = [];
      const concrete = (expression: string): string[] => {
        const names = expression.includes('*')
          ? Object.keys(next.indices).filter((n) => wildcardToRegExp(expression).test(n))
          : [expression];
        for (const name of names) if (next.indices[name] === undefined) throw indexNotFound(name);
        return names;
      };
      for (const action of actions) {
        if ('add' in action) {
          const { alias, isWriteIndex } = action.add;
          if (next.indices[alias] !== undefined)
            throw new EsError(
              400,
              'invalid_alias_name_exception',
              `Invalid alias name [${alias}]: an index or data stream exists with the same name as the alias`,
            );
          if (alias.includes('*'))
            throw illegalArgument(`Invalid alias name [${alias}], must not contain '*'`);
          for (const index of concrete(action.add.index)) {
            const targets = next.aliases[alias] ?? {};
            targets[index] = isWriteIndex === undefined ? {} : { is_write_index: isWriteIndex };
            next.aliases[alias] = targets;
          }
        } else if ('remove' in action) {
          const { alias, mustExist } = action.remove;
          for (const index of concrete(action.remove.index)) {
            const targets = next.aliases[alias];
            if (targets?.[index] === undefined) {
              if (mustExist)
                throw new EsError(404, 'aliases_not_found_exception', `aliases [${alias}] missing`, {
                  'resource.type': 'aliases',
                  'resource.id': alias,
                });
              continue;
            }
            delete targets[index];
            if (Object.keys(targets).length === 0) delete next.aliases[alias];
          }
        } else {
          const names = concrete(action.removeIndex.index);
          removedIndices.push(...names);
          next = this.withoutIndices(next, names);
        }
      }
      for (const [alias, targets] of Object.entries(next.aliases)) {
        const writers = Object.values(targets).filter((t) => t.is_write_index === true).length;
        if (writers > 1)
          throw illegalArgument(
            `alias [${alias}] has more than one write index [${Object.keys(targets).join(',')}]`,
          );
      }
      await this.saveCatalog(next);
      this.catalog = next;
      await this.dropIndices(removedIndices);
    });
  }

  /** PUT _mapping: merges new fields (validated by the caller) and rebuilds the searchers. */
  updateMappings(indices: SearchIndex[], merge: (current: StoredMappings) => StoredMappings): Promise<void> {
    return this.exclusive(async () => {
      const updated = indices.map((index) => ({
        index,
        meta: { ...index.meta, mappings: merge(index.meta.mappings) },
      }));
      const next: Catalog = { indices: { ...this.catalog.indices }, aliases: this.catalog.aliases };
      for (const { meta } of updated) next.indices[meta.name] = meta;
      await this.saveCatalog(next);
      this.catalog = next;
      for (const { index, meta } of updated) index.rebuildSearcher(meta);
    });
  }

  refreshAll(): void {
    for (const index of this.indices.values()) index.refresh();
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      for (const index of this.indices.values()) await index.close(true);
      this.indices.clear();
    });
  }
}
