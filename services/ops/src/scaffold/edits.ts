/**
 * The edits `tidemark new` makes to files a team owns: the deployment module (a context above its marker line),
 * and a projections package's index and queries (a projection above theirs). Text edits at marker lines, so a
 * team's own changes around them stay as they are; without the marker, the caller prints what to add by hand.
 * Pure.
 */

/** The line in a deployment module above which `tidemark new context` adds a context. */
export const CONTEXT_MARKER = '// tidemark new context: contexts above this line';
/** The line in a projections package's projection set above which `tidemark new projection` adds one. */
export const PROJECTION_MARKER = '// tidemark new projection: projections above this line';
/** The same in the package's defineQueries. */
export const QUERY_MARKER = '// tidemark new projection: queries above this line';

/**
 * `block` inserted above the line holding `marker`, each of its lines indented like the marker; null when the
 * source has no such line.
 */
export function insertAboveMarker(source: string, marker: string, block: string): string | null {
  const lines = source.split('\n');
  const index = lines.findIndex((line) => line.trim() === marker);
  if (index < 0) return null;
  const indent = /^\s*/.exec(lines[index] ?? '')?.[0] ?? '';
  const inserted = block
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line.length > 0 ? `${indent}${line}` : line));
  return [...lines.slice(0, index), ...inserted, ...lines.slice(index)].join('\n');
}

/** Top-level `const ... = require(...)` statements (possibly over several lines). */
const REQUIRE = /^(?:const|let|var)\s[^;]*?=\s*require\(\s*['"][^'"]+['"]\s*\);?[ \t]*$/gm;
/** Top-level import statements (possibly over several lines). */
const IMPORT = /^import\s[^;]*?from\s+['"][^'"]+['"];?[ \t]*$|^import\s+['"][^'"]+['"];?[ \t]*$/gm;
/** Top-level `export * from` statements. */
const EXPORT_ALL = /^export\s+\*\s+from\s+['"][^'"]+['"];?[ \t]*$/gm;

/** `lines` inserted after the last match of `statement`, else after the file's opening comments. */
function insertAfterLast(source: string, statement: RegExp, lines: string): string {
  let end = -1;
  for (const match of source.matchAll(statement)) end = (match.index ?? 0) + match[0].length;
  const text = lines.replace(/\n+$/, '');
  if (end >= 0) return `${source.slice(0, end)}\n${text}${source.slice(end)}`;
  const header = /^(?:\s*(?:\/\/[^\n]*|\/\*[\s\S]*?\*\/|['"]use strict['"];?))*\s*?\n/.exec(source);
  const at = header ? header[0].length : 0;
  return `${source.slice(0, at)}${text}\n${source.slice(at)}`;
}

/** What a deployment module needs to host one more context: its require lines and its entry. */
export interface DeploymentAddition {
  /** The packages required, to tell whether the module hosts the context already. */
  packages: readonly string[];
  requires: string;
  entry: string;
}

/**
 * The deployment module with the context added: the requires after its last require, the entry above the
 * marker. null when it has no marker line; the same source when it requires the packages already.
 */
export function addContextToDeployment(source: string, addition: DeploymentAddition): string | null {
  if (!source.split('\n').some((line) => line.trim() === CONTEXT_MARKER)) return null;
  if (addition.packages.some((name) => source.includes(`require('${name}')`))) return source;
  const withEntry = insertAboveMarker(source, CONTEXT_MARKER, addition.entry) as string;
  return insertAfterLast(withEntry, REQUIRE, addition.requires);
}

/** The source with `line` (an import statement) after its last import. */
export function addImport(source: string, line: string): string {
  return source.includes(line) ? source : insertAfterLast(source, IMPORT, line);
}

/** The source with `line` (an `export * from` statement) after its last one, else after its imports. */
export function addExportAll(source: string, line: string): string {
  if (source.includes(line)) return source;
  return [...source.matchAll(EXPORT_ALL)].length > 0
    ? insertAfterLast(source, EXPORT_ALL, line)
    : insertAfterLast(source, IMPORT, `\n${line}`);
}

/**
 * The source with `name` among the names a value import of `module` brings (`import { a, b } from 'module'`),
 * or a new import of it; unchanged when it is imported already.
 */
export function addNamedImport(source: string, name: string, module: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const statement = new RegExp(`^import\\s+\\{([^}]*)\\}\\s+from\\s+['"]${escaped}['"];?`, 'm');
  const found = statement.exec(source);
  if (!found) return addImport(source, `import { ${name} } from '${module}';`);
  const names = (found[1] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (names.some((part) => part === name || part.endsWith(` as ${name}`))) return source;
  const replaced = `import { ${[...names, name].join(', ')} } from '${module}';`;
  return source.slice(0, found.index) + replaced + source.slice(found.index + found[0].length);
}
