import fastify, { type FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { Registry } from 'prom-client';

/** What the health endpoints report: liveness is the process answering; readiness comes from these checks. */
export interface HealthSource {
  readiness(): Record<string, boolean>;
  /** Shown in /readyz's body beside the checks: the state of what is behind the sink (Elasticsearch, the spool). */
  details?(): Record<string, unknown>;
}

export interface HealthPluginOptions {
  health: HealthSource;
  metrics: Registry;
}

declare module 'fastify' {
  interface FastifyInstance {
    health: HealthSource;
  }
}

const statusSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'boolean' } },
    details: { type: 'object', additionalProperties: true },
  },
  required: ['status'],
} as const;

/** /healthz, /readyz and /metrics as one named fastify plugin. */
export const healthPlugin = fastifyPlugin<HealthPluginOptions>(
  async (app, options) => {
    app.decorate('health', options.health);
    app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { response: { 200: statusSchema, 503: statusSchema } } }, async (_request, reply) => {
      const checks = app.health.readiness();
      const ready = Object.values(checks).every(Boolean);
      const details = app.health.details?.();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks, ...(details ? { details } : {}) });
    });
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', options.metrics.contentType);
      return options.metrics.metrics();
    });
  },
  { name: 'elkfc-health', fastify: '5.x' },
);

export async function buildHealthServer(options: HealthPluginOptions): Promise<FastifyInstance> {
  const app = fastify({ logger: false });
  await app.register(healthPlugin, options);
  return app;
}
