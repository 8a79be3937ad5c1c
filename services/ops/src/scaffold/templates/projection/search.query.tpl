{{camel}}: searchQuery({{camel}}Projection, {
  path: {{path}},
  summary: {{summary}},
  hit: {{hit}},
  filters: {
    type: {
      kind: 'term',
      field: 'lastEventType',
      normalizer: 'lowercase',
      description: 'the type of the last event',
    },
    minEvents: { kind: 'range', field: 'events', bound: 'gte', min: 0, description: 'at least this many events' },
  },
  facets: { type: { field: 'lastEventType', size: 20 } },
  sorts: {
    recent: [{ field: 'lastEventAt', order: 'desc' }],
    busiest: [{ field: 'events', order: 'desc' }],
  },
  tieBreaker: 'id',
}),
