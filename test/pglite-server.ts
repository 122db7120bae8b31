import { after, before } from 'node:test';
import { emptyStore, type PgliteServer, startPglite } from '../scripts/pglite-server.js';

/**
 * One PGlite server for a test file, started before its tests and stopped after them:
 * `const pg = usePglite()`, then `await pg.fresh()` inside a test for the URL of an empty store.
 */
export function usePglite(options: { textsearch?: boolean } = {}) {
  let server: PgliteServer | undefined;
  before(async () => {
    server = await startPglite(options);
  });
  after(() => server?.stop());
  return {
    server: () => server!,
    fresh: async () => {
      await emptyStore(server!.db);
      return server!.url;
    },
  };
}
