/**
 * The names `tidemark new` derives from the ones it is given: a context named gift-cards has the aggregate
 * gift-card (a simple English singular, or --aggregate), so the code says GiftCardCreated, giftCardDecider,
 * giftCardsContext, GIFT_CARDS_NOT_FOUND. Pure. (No example name in quotes here: the layering check would
 * take it for a platform file naming a context of that name.)
 */
import { CONTEXT_NAME, PROJECTION_NAME } from '@tidemark/sdk';
import { UsageError } from '../cli/usage-error';

/** npm's rule for a scope: `@` and a lowercase name. */
const SCOPE = /^@[a-z0-9][a-z0-9._-]*$/;
/** Query names (the keys of defineQueries) and search hits: plain identifiers of at most 40 characters. */
const QUERY_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,39}$/;

/** A context name, or a UsageError saying what a name may be. */
export function checkContextName(name: string, what = 'context name'): string {
  if (!CONTEXT_NAME.test(name) || name.endsWith('-') || name.includes('--')) {
    throw new UsageError(
      `the ${what} '${name}' must be lowercase letters, digits and single dashes, starting with a letter (at most 49 characters)`,
    );
  }
  return name;
}

/** A projection name, or a UsageError. */
export function checkProjectionName(name: string): string {
  if (!PROJECTION_NAME.test(name) || name.endsWith('-') || name.includes('--')) {
    throw new UsageError(
      `the projection name '${name}' must be lowercase letters, digits and single dashes, starting with a letter (at most 63 characters)`,
    );
  }
  return name;
}

export function checkScope(scope: string): string {
  if (!SCOPE.test(scope)) throw new UsageError(`--scope must be an npm scope such as @acme (got '${scope}')`);
  return scope;
}

/**
 * The singular of the last word of a dashed name, by the common English endings: orders -> order,
 * gift-cards -> gift-card, categories -> category, addresses -> address, status -> status. Irregular words
 * (news, series) need --aggregate.
 */
export function singular(name: string): string {
  const words = name.split('-');
  const last = words.pop() ?? '';
  let one = last;
  if (/[^aeiou]ies$/.test(last)) one = `${last.slice(0, -3)}y`;
  else if (/(ss|sh|ch|x|z)es$/.test(last)) one = last.slice(0, -2);
  else if (/[^su]s$/.test(last) && !/is$/.test(last)) one = last.slice(0, -1);
  const result = [...words, one].join('-');
  return CONTEXT_NAME.test(result) ? result : name;
}

const words = (name: string) => name.split('-').filter((word) => word.length > 0);
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

export const pascalCase = (name: string) => words(name).map(capital).join('');
export const camelCase = (name: string) => {
  const pascal = pascalCase(name);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
};
export const constantCase = (name: string) => words(name).join('_').toUpperCase();
/** an order, a gift card: for comments and messages. */
export const withArticle = (name: string) => `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${words(name).join(' ')}`;

/** Every spelling of a new context's names that its templates use. */
export interface ContextNames {
  /** orders, gift-cards: the context (topics, gateway route, folders). */
  name: string;
  /** giftCards, as in giftCardsContext. */
  ctx: string;
  /** ORDERS, GIFT_CARDS: error codes and constants about the context. */
  NAME: string;
  /** order, gift-card: the aggregate type and the projection name's stem. */
  'agg-name': string;
  /** order, giftCard. */
  agg: string;
  /** Order, GiftCard: command and event types. */
  Agg: string;
  /** ORDER, GIFT_CARD. */
  AGG: string;
  /** order, gift card: prose. */
  'agg words': string;
  /** an order, a gift card: prose. */
  'a agg': string;
  /** The npm scope, e.g. @tidemark. */
  scope: string;
  /** <scope>/<name> and <scope>/<name>-projections. */
  package: string;
  'projections package': string;
}

/** The names of context `name` with aggregate `aggregate` (default: the singular of the name). */
export function contextNames(name: string, scope: string, aggregate?: string): ContextNames {
  checkContextName(name);
  checkScope(scope);
  const agg = aggregate === undefined ? singular(name) : checkContextName(aggregate, 'aggregate name');
  const names: ContextNames = {
    name,
    ctx: camelCase(name),
    NAME: constantCase(name),
    'agg-name': agg,
    agg: camelCase(agg),
    Agg: pascalCase(agg),
    AGG: constantCase(agg),
    'agg words': words(agg).join(' '),
    'a agg': withArticle(agg),
    scope,
    package: `${scope}/${name}`,
    'projections package': `${scope}/${name}-projections`,
  };
  if (!QUERY_NAME.test(names.agg)) {
    throw new UsageError(
      `the aggregate name '${agg}' is too long: its query is named '${names.agg}', at most 40 characters (give a shorter --aggregate)`,
    );
  }
  return names;
}

/** The names of a projection `name` (e.g. order-daily). */
export interface ProjectionNames {
  /** order-daily: the projection's name, its file name, its route segment. */
  projection: string;
  /** orderDaily: the query's name, `orderDailyProjection`. */
  camel: string;
  /** OrderDaily: the document type. */
  Pascal: string;
  /** ORDER_DAILY: `ORDER_DAILY_PROJECTION`. */
  CONSTANT: string;
  /** "order daily": prose. */
  words: string;
}

export function projectionNames(name: string): ProjectionNames {
  checkProjectionName(name);
  const camel = camelCase(name);
  if (!QUERY_NAME.test(camel)) {
    throw new UsageError(
      `the projection name '${name}' is too long: its query is named '${camel}', at most 40 characters`,
    );
  }
  return {
    projection: name,
    camel,
    Pascal: pascalCase(name),
    CONSTANT: constantCase(name),
    words: words(name).join(' '),
  };
}
