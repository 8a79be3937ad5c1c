#!/usr/bin/env node
// Installs the system binaries the tests need (redis-server, memcached, kcat) when missing.
// Lives in infra/stack so `npm start` and the tests share one implementation.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ensureSystemPackages } = require('../infra/stack/dist/src/system-packages.js');
await ensureSystemPackages(['redis-server', 'memcached', 'kcat']);
