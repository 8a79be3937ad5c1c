const { {{ctx}}Context } = require('{{package}}');
const { {{agg}}ProjectionSet, {{agg}}Queries, {{ctx}}Example } = require('{{projections package}}');
