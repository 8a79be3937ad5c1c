/**
 * The one error mapping (pure): a TidemarkError with its response headers, refused bodies as body-parser (express)
 * and Fastify name them, Nest HttpExceptions below 500, nothing for the unexpected (a 500); and the
 * authenticator's reading of the presented key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { TidemarkError } from '@tidemark/schemas';
import {
  ApiKeyAuthenticator,
  answerOf,
  DEFAULT_RETRY_AFTER_SECONDS,
  forbidden,
  unauthenticated,
} from '../src';

describe('answerOf', () => {
  test('a TidemarkError: its status, code, details and response headers (not in the JSON body)', () => {
    const error = new TidemarkError(
      'COMMAND_PENDING',
      'pending',
      503,
      true,
      { commandId: 'c-1' },
      {
        'Retry-After': '1',
        Location: '/somewhere',
      },
    );
    assert.deepEqual(answerOf(error), {
      status: 503,
      code: 'COMMAND_PENDING',
      message: 'pending',
      retryable: true,
      details: { commandId: 'c-1' },
      headers: { 'Retry-After': '1', Location: '/somewhere' },
    });
    assert.deepEqual(error.toJSON(), {
      code: 'COMMAND_PENDING',
      message: 'pending',
      retryable: true,
      details: { commandId: 'c-1' },
    });
    const plain = answerOf(new TidemarkError('CONTEXT_NOT_FOUND', 'unknown', 404, false));
    assert.deepEqual(plain, {
      status: 404,
      code: 'CONTEXT_NOT_FOUND',
      message: 'unknown',
      retryable: false,
      headers: {},
    });
  });

  test('withHeaders adds headers to a copy', () => {
    const error = new TidemarkError('NOT_FOUND', 'none', 404, false, undefined, {
      'Cache-Control': 'no-store',
    });
    const more = error.withHeaders({ 'Consistency-Token': 'tok' });
    assert.deepEqual(more.headers, { 'Cache-Control': 'no-store', 'Consistency-Token': 'tok' });
    assert.deepEqual(error.headers, { 'Cache-Control': 'no-store' });
    assert.equal(more.code, 'NOT_FOUND');
    assert.ok(more instanceof TidemarkError);
  });

  test('401 and 403 of the guard', () => {
    assert.deepEqual(answerOf(unauthenticated(false)), {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
      retryable: false,
      headers: { 'WWW-Authenticate': 'Bearer realm="tidemark"' },
    });
    assert.equal(answerOf(unauthenticated(true))?.message, 'the API key is not valid');
    assert.deepEqual(answerOf(forbidden('admin')), {
      status: 403,
      code: 'FORBIDDEN',
      message: "the API key lacks the scope 'admin'",
      retryable: false,
      details: { requiredScope: 'admin' },
      headers: {},
    });
  });

  test("refused bodies, as Fastify's content-type parser names them", () => {
    const fastify = (code: string, statusCode: number) =>
      Object.assign(new Error(code), { code, statusCode });
    const tooLarge = answerOf(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413), 4096);
    assert.deepEqual(
      [tooLarge?.status, tooLarge?.code, tooLarge?.details],
      [413, 'PAYLOAD_TOO_LARGE', { limitBytes: 4096 }],
    );
    assert.equal(answerOf(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413))?.details, undefined, 'no limit known');
    for (const code of ['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']) {
      assert.deepEqual(
        [answerOf(fastify(code, 400))?.status, answerOf(fastify(code, 400))?.code],
        [400, 'MALFORMED_JSON'],
      );
    }
    const media = answerOf(fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415));
    assert.deepEqual([media?.status, media?.code], [415, 'UNSUPPORTED_MEDIA_TYPE']);
    const length = answerOf(fastify('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400));
    assert.deepEqual(
      [length?.status, length?.code, length?.details],
      [400, 'BAD_REQUEST', { reason: 'request.size.invalid' }],
    );
  });

  test('refused bodies, as body-parser (express) names them, also as the cause of what Nest threw', () => {
    const parser = (type: string, status: number, extra: object = {}) =>
      Object.assign(new Error(type), { type, status, ...extra });
    const tooLarge = answerOf(parser('entity.too.large', 413, { limit: 65536 }), 1);
    assert.deepEqual(
      [tooLarge?.status, tooLarge?.details],
      [413, { limitBytes: 65536 }],
      "the parser's limit",
    );
    assert.equal(answerOf(parser('entity.parse.failed', 400))?.code, 'MALFORMED_JSON');
    assert.equal(answerOf(parser('charset.unsupported', 415))?.status, 415);
    assert.equal(answerOf(parser('encoding.unsupported', 415))?.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(answerOf(parser('request.aborted', 400))?.details, { reason: 'request.aborted' });
    const wrapped = new BadRequestException('bad', { cause: parser('entity.parse.failed', 400) });
    assert.equal(answerOf(wrapped)?.code, 'MALFORMED_JSON');
    assert.equal(
      answerOf(parser('stream.encoding.set', 500)),
      undefined,
      'a 500 of the parser is unexpected',
    );
  });

  test("Nest's HttpExceptions below 500; anything else is unexpected", () => {
    const notFound = answerOf(new NotFoundException('Cannot GET /nowhere'));
    assert.deepEqual(notFound, {
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      message: 'Cannot GET /nowhere',
      retryable: false,
      headers: {},
    });
    assert.equal(answerOf(new HttpException('slow down', 429))?.retryable, true);
    assert.equal(answerOf(new HttpException('teapot', 418))?.code, 'HTTP_418');
    assert.equal(answerOf(new HttpException('down', 503)), undefined);
    assert.equal(answerOf(new Error('boom')), undefined);
    assert.equal(answerOf('a string'), undefined);
    assert.equal(DEFAULT_RETRY_AFTER_SECONDS, 1);
  });
});

describe('ApiKeyAuthenticator', () => {
  const keys = [
    { id: 'one', secret: 'secret-number-one', scopes: ['admin'] },
    { id: 'two', secret: 'secret-number-two', scopes: ['*'] },
  ];
  const authenticator = new ApiKeyAuthenticator({ apiKeys: keys });

  test('reads Authorization: Bearer, else X-Api-Key', () => {
    assert.equal(authenticator.presented({ headers: { authorization: 'Bearer abc' } }), 'abc');
    assert.equal(authenticator.presented({ headers: { authorization: 'bearer   abc  ' } }), 'abc');
    assert.equal(authenticator.presented({ headers: { authorization: 'Basic abc' } }), undefined);
    assert.equal(
      authenticator.presented({ headers: { authorization: 'Basic abc', 'x-api-key': 'def' } }),
      undefined,
      'an Authorization header wins',
    );
    assert.equal(authenticator.presented({ headers: { 'x-api-key': ' def ' } }), 'def');
    assert.equal(authenticator.presented({ headers: { 'x-api-key': '  ' } }), undefined);
    assert.equal(authenticator.presented({ headers: {} }), undefined);
  });

  test('finds the key whose secret is presented', () => {
    assert.equal(authenticator.authenticate('secret-number-two')?.id, 'two');
    assert.equal(authenticator.authenticate('secret-number-one')?.id, 'one');
    assert.equal(authenticator.authenticate('secret-number-three'), undefined);
    assert.equal(authenticator.authenticate(''), undefined);
    assert.equal(authenticator.authenticate(undefined), undefined);
  });
});
