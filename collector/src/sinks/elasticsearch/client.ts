import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { ConfigError } from '../../config/load.js';
import type { CollectorConfig } from '../../config/schema.js';

function secret(value: string | null, file: string | null, key: string): string | undefined {
  if (value) return value;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`elasticsearch.${key}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The client for the configured cluster. Its own retries are off: the sink retries with backoff itself, item by
 * item, and spools to disk meanwhile. Credentials come from the configuration or files; they are never logged.
 */
export function createElasticsearchClient(config: CollectorConfig): Client {
  const es = config.elasticsearch;
  if (es.urls.length === 0) throw new ConfigError('elasticsearch.urls: no Elasticsearch URL configured (ELASTICSEARCH_URL)');
  const password = secret(es.password, es.passwordFile, 'passwordFile');
  const apiKey = secret(es.apiKey, es.apiKeyFile, 'apiKeyFile');
  const options: ClientOptions = {
    nodes: es.urls,
    maxRetries: 0,
    requestTimeout: es.requestTimeoutMs,
    compression: false,
    // The transport's redaction copies every request's parameters key by key to strip credentials from error
    // metadata; on a 10 MiB bulk Buffer that is millions of entries per request. We never log that metadata
    // (only status codes and messages), so there is nothing to redact.
    redaction: { type: 'off' },
  };
  if (apiKey) options.auth = { apiKey };
  else if (es.username && password) options.auth = { username: es.username, password };
  else if (es.username || password) throw new ConfigError('elasticsearch.username and elasticsearch.password go together');
  if (es.caCertPath || !es.tlsVerify) {
    let ca: string | undefined;
    if (es.caCertPath) {
      try {
        ca = readFileSync(es.caCertPath, 'utf8');
      } catch (error) {
        throw new ConfigError(`elasticsearch.caCertPath: cannot read ${es.caCertPath}: ${(error as Error).message}`);
      }
    }
    options.tls = { ca, rejectUnauthorized: es.tlsVerify };
  }
  return new Client(options);
}
