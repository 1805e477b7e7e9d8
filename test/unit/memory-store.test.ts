import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMemoryStore } from '../../src/memory/memory-store.js';
import { createSqliteStore } from '../../src/memory/sqlite-store.js';
import { storeSuite } from '../helpers/store-suite.js';

// Redis runs the same suite in test/redis/redis-store.test.ts (npm run test:redis): it needs a server.
storeSuite('memory', options => ({ store: createMemoryStore(options), cleanup: () => {} }));

storeSuite('sqlite', options => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exai-store-'));
  const file = path.join(dir, 'conversations.db');
  return {
    store: createSqliteStore({ ...options, path: file }),
    twin: () => createSqliteStore({ ...options, path: file }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
