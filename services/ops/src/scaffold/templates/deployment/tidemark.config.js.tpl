// @ts-check
/**
 * The deployment module: the contexts this installation hosts, each with its projections and queries. Every
 * service command loads it (`--config <file>` or TIDEMARK_CONFIG; ./tidemark.config.js by default), and
 * `tidemark new context` adds new contexts above the marker line below.
 */
const { defineDeployment } = require('@tidemark/sdk');
{{requires}}

module.exports = defineDeployment({
  contexts: [
{{entry}}
    // tidemark new context: contexts above this line
  ],
});
