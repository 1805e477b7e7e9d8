/**
 * The ids a provider serves, from its live model list. Only Kimi has one (the OpenAI-style, authenticated
 * `GET /v1/models`); Z.ai publishes none, so the GLM catalogue is kept by hand.
 */
import { ExaiError } from '../errors.js';
import { abortReason, Deadline } from '../resilience/deadline.js';

/** The model ids listed at `${baseUrl}/models`, within the time given. The key never appears in an error. */
export async function listUpstreamModels(
  baseUrl: string,
  apiKey: string,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Deadline.start(timeoutMs, { label: 'model list' });
  const url = `${baseUrl.replace(/\/+$/, '')}/models`;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal: deadline.signal,
    });
    const text = await res.text();
    if (!res.ok) {
      throw new ExaiError('upstream_error', `GET ${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`, {
        status: res.status,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ExaiError('protocol', `GET ${url} did not answer JSON: ${text.slice(0, 120)}`);
    }
    const data = (json as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new ExaiError('protocol', `GET ${url} answered without a data list`);
    return data
      .map(item => (item as { id?: unknown }).id)
      .filter((id): id is string => typeof id === 'string');
  } catch (error) {
    if (deadline.signal.aborted) throw abortReason(deadline.signal);
    if (error instanceof ExaiError) throw error;
    throw new ExaiError('network', `GET ${url} failed: ${(error as Error).message}`);
  } finally {
    deadline.dispose();
  }
}
