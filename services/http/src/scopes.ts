/**
 * The one scope grammar of every Tidemark HTTP service (pure). A scope is colon-separated segments
 * (`commands:write:<context>`, `queries:read:<context>`, `admin`). A granted scope is `*` (everything), or
 * segments whose last one may be `*`, matching whatever follows the colon before it: `queries:read:*` allows
 * `queries:read:<any context>`, `commands:*` every command scope (and `commands:*` does not allow `commands`
 * itself). A `*` anywhere else is an ordinary segment. A route's required scope is matched literally.
 */

export const WILDCARD = '*';

/** Whether one granted scope allows the required one: equal, or a prefix followed by a last `*` segment. */
export function grantAllows(granted: string, required: string): boolean {
  if (granted === required || granted === WILDCARD) return true;
  if (!granted.endsWith(`:${WILDCARD}`)) return false;
  // `a:b:*` allows `a:b:<rest>`, whatever the rest (colons included).
  return required.startsWith(granted.slice(0, -WILDCARD.length));
}

/** Whether a key with these granted scopes may use a route that needs `required`. */
export function scopesAllow(granted: readonly string[], required: string): boolean {
  return granted.some((scope) => grantAllows(scope, required));
}
