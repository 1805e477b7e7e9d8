/**
 * A lean MCP client for load generation: JSON-RPC over Streamable HTTP on undici, one session per client,
 * SSE or JSON responses. The SDK's Client validates every message with zod and runs on fetch; as a load
 * generator it would spend more CPU than the server it measures (both share 2 cores).
 */
import { createParser } from 'eventsource-parser';
import { type Dispatcher, request } from 'undici';

export const PROTOCOL_VERSION = '2025-06-18';

export interface RpcResponse {
  id?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export class McpLoadClient {
  private sessionId: string | undefined;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async initialize(): Promise<void> {
    const { response, headers } = await this.post(
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'exai-bench', version: '0' },
        },
      },
      0,
    );
    if (!response?.result) throw new Error(`initialize failed: ${JSON.stringify(response?.error)}`);
    const id = headers['mcp-session-id'];
    this.sessionId = typeof id === 'string' ? id : undefined;
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, undefined);
  }

  /** tools/call; resolves with the JSON-RPC response. `onId` gets the request id before it is sent. */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: { signal?: AbortSignal; onId?: (id: number) => void } = {},
  ): Promise<RpcResponse> {
    const id = this.nextId++;
    options.onId?.(id);
    const { response } = await this.post(
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } },
      id,
      options.signal,
    );
    if (!response) throw new Error(`tools/call ${name}: no response`);
    return response;
  }

  /**
   * tools/call from a client whose own timer gives up after `patienceMs`, as the MCP SDKs' `timeout` option
   * does: it sends notifications/cancelled with `reason` and reads the response stream to its end (the server
   * ends it without an answer). Resolves with the response, or undefined when the client gave up first.
   */
  async callToolWithTimeout(
    name: string,
    args: Record<string, unknown>,
    patienceMs: number,
    reason: string,
  ): Promise<RpcResponse | undefined> {
    const id = this.nextId++;
    let cancelled: Promise<unknown> | undefined;
    let cancelError: unknown;
    const timer = setTimeout(() => {
      cancelled = this.cancel(id, reason).catch(error => {
        cancelError = error;
      });
    }, patienceMs);
    const answered = this.post(
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } },
      id,
    ).finally(() => clearTimeout(timer));
    const { response } = await answered;
    await cancelled;
    if (cancelError !== undefined) throw cancelError;
    return response;
  }

  async cancel(requestId: number, reason: string): Promise<void> {
    await this.post(
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } },
      undefined,
    );
  }

  private async post(
    message: Record<string, unknown>,
    id: number | undefined,
    signal?: AbortSignal,
  ): Promise<{ response: RpcResponse | undefined; headers: Record<string, string | string[] | undefined> }> {
    const res = await request(this.url, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(this.sessionId && { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': PROTOCOL_VERSION }),
      },
      body: JSON.stringify(message),
      ...(signal && { signal }),
    });
    const type = String(res.headers['content-type'] ?? '');
    if (id === undefined || res.statusCode === 202) {
      await res.body.dump();
      if (res.statusCode >= 400) throw new Error(`HTTP ${res.statusCode}`);
      return { response: undefined, headers: res.headers };
    }
    if (!type.includes('text/event-stream')) {
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      return { response: JSON.parse(text) as RpcResponse, headers: res.headers };
    }
    // SSE: progress notifications may come first; the response is the event whose id is ours. The server
    // ends the stream after it; reading to the end keeps the connection reusable.
    let response: RpcResponse | undefined;
    const parser = createParser({
      onEvent(event) {
        if (!event.data) return;
        const json = JSON.parse(event.data) as RpcResponse;
        if (json.id === id) response = json;
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    return { response, headers: res.headers };
  }
}
