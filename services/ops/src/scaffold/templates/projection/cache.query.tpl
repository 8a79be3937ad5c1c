{{camel}}: documentQuery({{camel}}Projection, {
  path: {{path}},
  notFound: {{not-found}},
  summary: {{summary}},
  // A document memcached does not have is read from {{fallback-name}} at the same token.
  fallback: { view: {{fallback-export}}, map: (document) => document },
}),
