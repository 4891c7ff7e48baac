// The metrics endpoint of `dives start --metrics HOST:PORT`: a node:http server that
// answers GET (and HEAD) /metrics with a scrape (src/metrics/switch-metrics.ts) in the
// Prometheus text format, gzipped when the scraper asks, and 404 anything else. Scrapes
// that arrive while one runs share it, so scrapers cannot make the switch ask its threads
// more than once at a time. Bounded: connections, header and request time. Main thread.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { CommandRegistry } from '../control/command-registry.js';
import type { SwitchControl } from '../control/commands/areas.js';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import { formatMetricsAddress, type MetricsAddress } from './metrics-address.js';
import { scrapeMetrics } from './switch-metrics.js';

/** Connections at once; more wait in the kernel's backlog, then are refused. */
const MAX_CONNECTIONS = 32;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

const gzipAsync = promisify(gzip);

export interface MetricsServerOptions {
  address: MetricsAddress;
  registry: CommandRegistry;
  sw: SwitchControl;
  log: Logger;
}

export interface MetricsServer {
  /** The URL it serves, http://HOST:PORT/metrics, with the port it really got. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, sw, log } = opts;
  const lines = LogLimiter.of(log);
  let inflight: Promise<string> | null = null;
  // Scrapes at the same moment share one: the counters are asked for once, and all get the same text.
  const scrape = (): Promise<string> => {
    inflight ??= scrapeMetrics(registry, sw)
      .then(renderExposition)
      .finally(() => (inflight = null));
    return inflight;
  };

  const server: Server = createServer((req, res) => void answer(req, res, scrape).catch((err: unknown) => fail(res, err, lines)));
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const where = formatMetricsAddress(opts.address);
  server.listen(opts.address.port, opts.address.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new DivesError('ELISTEN', `--metrics ${where}: cannot listen: ${(err as Error).message}`, { cause: err });
  }
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : opts.address.port;
  const url = `http://${formatMetricsAddress({ host: opts.address.host, port })}/metrics`;
  log.info(`metrics: serving Prometheus metrics at ${url}`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, scrape: () => Promise<string>): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://dives').pathname;
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: DiVES serves its metrics at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
    return;
  }
  const text = await scrape();
  const zipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = zipped ? await gzipAsync(text) : Buffer.from(text);
  res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': body.length, ...(zipped ? { 'Content-Encoding': 'gzip' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A scrape that failed: 500 with why, and a line in the log (rate-limited: anyone who reaches the port can scrape). */
function fail(res: ServerResponse, err: unknown, lines: LogLimiter): void {
  const why = err instanceof Error ? err.message : String(err);
  lines.error('metrics-error', `metrics: a scrape failed: ${why}`);
  if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`scrape failed: ${why}\n`);
}
