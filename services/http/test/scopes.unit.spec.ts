/**
 * The one scope grammar (pure): a granted scope allows a required one when it is `*`, equal to it, or ends in a
 * `*` segment that matches whatever follows the colon before it. Required scopes are matched literally.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiKeyAuthenticator, grantAllows, scopesAllow } from '../src';

describe('scope grammar', () => {
  test('`*` allows every scope', () => {
    for (const required of ['admin', 'commands:write:orders', 'queries:read:orders', 'a:b:c:d']) {
      assert.equal(grantAllows('*', required), true, required);
    }
  });

  test('an exact grant allows that scope only', () => {
    assert.equal(grantAllows('admin', 'admin'), true);
    assert.equal(grantAllows('commands:write:orders', 'commands:write:orders'), true);
    assert.equal(grantAllows('commands:write:orders', 'commands:write:order'), false);
    assert.equal(grantAllows('commands:write:orders', 'commands:write:orders2'), false);
    assert.equal(grantAllows('commands:write:orders', 'commands:read:orders'), false);
    assert.equal(grantAllows('commands:write', 'commands:write:orders'), false, 'no implicit prefix');
    assert.equal(grantAllows('admin', 'administrator'), false);
  });

  test('a last `*` segment matches any rest after its prefix', () => {
    assert.equal(grantAllows('queries:read:*', 'queries:read:orders'), true);
    assert.equal(grantAllows('commands:write:*', 'commands:write:orders'), true);
    assert.equal(grantAllows('commands:write:*', 'commands:read:orders'), false);
    assert.equal(grantAllows('commands:*', 'commands:write:orders'), true, 'a shorter prefix: more segments');
    assert.equal(grantAllows('commands:*', 'commands:read:orders'), true);
    assert.equal(grantAllows('commands:*', 'queries:read:orders'), false);
    assert.equal(grantAllows('commands:write:*', 'commands:write:a:b'), true, 'the rest may have colons');
  });

  test('a wildcard grant needs its whole prefix, segment by segment', () => {
    assert.equal(grantAllows('commands:*', 'commands'), false, 'nothing after the prefix');
    assert.equal(grantAllows('queries:read:*', 'queries:read'), false);
    assert.equal(grantAllows('queries:read:*', 'queries:reader:orders'), false, 'not a string prefix');
    assert.equal(
      grantAllows('queries:re*', 'queries:read:orders'),
      false,
      'only a whole segment is a wildcard',
    );
    assert.equal(grantAllows('admin*', 'admin'), false);
  });

  test('a `*` that is not the last segment is an ordinary segment', () => {
    assert.equal(grantAllows('commands:*:orders', 'commands:write:orders'), false);
    assert.equal(grantAllows('commands:*:orders', 'commands:*:orders'), true, 'equal');
    assert.equal(grantAllows('*:read:orders', 'queries:read:orders'), false);
  });

  test('required scopes are literal: a `*` in them is no wildcard', () => {
    assert.equal(grantAllows('commands:write:orders', 'commands:write:*'), false);
    assert.equal(grantAllows('commands:write:*', 'commands:write:*'), true);
  });

  test('a key allows a scope when any of its granted scopes does', () => {
    const scopes = ['commands:read:orders', 'queries:read:*'];
    assert.equal(scopesAllow(scopes, 'commands:read:orders'), true);
    assert.equal(scopesAllow(scopes, 'queries:read:invoices'), true);
    assert.equal(scopesAllow(scopes, 'commands:write:orders'), false);
    assert.equal(scopesAllow(scopes, 'admin'), false);
    assert.equal(scopesAllow([], 'admin'), false);
    assert.equal(ApiKeyAuthenticator.allows({ scopes: ['admin'] }, 'admin'), true);
    assert.equal(ApiKeyAuthenticator.allows({ scopes: ['commands:*'] }, 'admin'), false);
  });
});
