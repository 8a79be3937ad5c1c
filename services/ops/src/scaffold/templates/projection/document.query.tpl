{{camel}}: documentQuery({{camel}}Projection, {
  path: {{path}},
  notFound: {{not-found}},
  summary: {{summary}},
}),
