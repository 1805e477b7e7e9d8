/**
 * GET /readyz: ready when the store answers and at least one configured provider's breaker is not open, so a
 * load balancer sends work only where some model can answer it.
 *
 * The store probe has its own short deadline: a probe that waits on a hung store (a frozen Redis) would hang
 * the balancer's health check, which then times out on its side with no reason given. Past the deadline the
 * store counts as unavailable.
 *
 * The details (store state, breakers, shared health) are for the operator: with EXAI_HTTP_TOKEN set, a request
 * without the token sees only whether the replica is ready.
 */
import { isExaiError } from '../../errors.js';
import { Deadline } from '../../resilience/deadline.js';
import type { App } from '../app.js';

/** Under the 1 s a Kubernetes probe waits by default (timeoutSeconds), with room for the rest of the answer. */
export const READY_STORE_DEADLINE_MS = 750;
const PROBE_THREAD = '00000000-0000-4000-8000-000000000000';

export interface Readiness {
  ready: boolean;
  degraded: boolean;
  store: string;
  providers: Record<string, string>;
  sharedHealth: ReturnType<App['gateway']['sharedHealth']>;
}

export async function readiness(app: App, storeDeadlineMs = READY_STORE_DEADLINE_MS): Promise<Readiness> {
  const providers = Object.fromEntries(
    app.gateway.status().map(p => [p.provider, p.configured ? p.breaker.state : 'not_configured']),
  );
  const store = await storeState(app, storeDeadlineMs);
  const sharedHealth = app.gateway.sharedHealth();
  const usable = Object.values(providers).some(state => state === 'closed' || state === 'half_open');
  // A shared (Redis) store that is unreachable degrades this replica but must not take every replica out of
  // the balancer at once: calls still answer, without memory. A local store that fails means a broken replica.
  const storeUsable = store === 'open' || app.store.kind === 'redis';
  const degraded = store !== 'open' || (sharedHealth.enabled && sharedHealth.degraded);
  return { ready: storeUsable && usable, degraded, store, providers, sharedHealth };
}

/** A read of a thread that cannot exist: "not found" proves the store answers; anything else says why not. */
async function storeState(app: App, deadlineMs: number): Promise<string> {
  const deadline = Deadline.start(deadlineMs, { label: 'readiness store probe' });
  let stopWaiting = () => {};
  const expired = new Promise<string>(resolve => {
    const onAbort = () => resolve(`unavailable: no answer within ${deadlineMs} ms`);
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => deadline.signal.removeEventListener('abort', onAbort);
  });
  // The probe itself stays bounded by the store's own deadlines; here it is only not waited for.
  const probe = app.store.get(PROBE_THREAD).then(
    () => 'open',
    (error: unknown) =>
      isExaiError(error) && error.kind === 'not_found' ? 'open' : `unavailable: ${(error as Error).message}`,
  );
  try {
    return await Promise.race([probe, expired]);
  } finally {
    stopWaiting();
    deadline.dispose();
  }
}
