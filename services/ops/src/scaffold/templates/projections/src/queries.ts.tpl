/**
 * The {{name}} read routes: which view answers which path. The query API serves them with causal reads: a read
 * that sends a Consistency-Token waits until the view has caught up with it.
 */
import { {{NAME}}_NOT_FOUND, {{ctx}}Context } from '{{package}}';
import { defineQueries, documentQuery } from '@tidemark/sdk';
import { {{agg}}DetailProjection } from './{{agg-name}}-detail';

export const {{agg}}Queries = defineQueries({{ctx}}Context, {
  {{agg}}: documentQuery({{agg}}DetailProjection, {
    path: '/v1/{{name}}/:id',
    notFound: {{NAME}}_NOT_FOUND,
    summary: 'The {{agg words}} with this id (Postgres)',
  }),
  // tidemark new projection: queries above this line
});
