{
  context: {{ctx}}Context,
  projections: {{agg}}ProjectionSet,
  queries: {{agg}}Queries,
  example: {{ctx}}Example,
},
