/**
 * The templates of `tidemark new`: the files under ./templates (kept as source, not compiled: `<file>.tpl`), with
 * `{{placeholder}}`s filled in. The templates are what a generated context looks like for a context named
 * orders, so they read as code; the generator formats what it writes with the workspace's Biome afterwards.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** From dist/src/scaffold/ (this module, compiled) back to the templates in the package's source. */
const TEMPLATES = path.resolve(__dirname, '../../../src/scaffold/templates');

export function templatesDir(): string {
  if (!existsSync(TEMPLATES)) throw new Error(`the templates of tidemark new are missing (${TEMPLATES})`);
  return TEMPLATES;
}

const PLACEHOLDER = /\{\{([^{}]+)\}\}/g;

/** Fills in a template's placeholders; a placeholder without a value is an error (a template bug). */
export function render(
  template: string,
  values: Readonly<Record<string, string>>,
  name = 'template',
): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${name}: no value for {{${key}}}`);
    return value;
  });
}

/** Reads templates/<file>.tpl and renders it. */
export function renderTemplate(file: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(path.join(templatesDir(), `${file}.tpl`), 'utf8');
  return render(text, values, file);
}
