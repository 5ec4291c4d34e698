import { ConfigError } from '../config/load.js';
import type { CollectorConfig } from '../config/schema.js';
import { DefinitionError, loadIpfixDefinitions, loadNetflowDefinitions } from './logstash-definitions.js';
import { ElementRegistry } from './registry.js';

/** The built-in elements extended by the configured Logstash definition files; a bad file is a configuration error. */
export function buildRegistry(config: CollectorConfig): ElementRegistry {
  const load = <T>(key: string, files: string[], read: (file: string) => T[]): T[] =>
    files.flatMap((file) => {
      try {
        return read(file);
      } catch (error) {
        if (error instanceof DefinitionError || (error as NodeJS.ErrnoException).code) {
          throw new ConfigError(`decoding.${key}: ${(error as Error).message}`);
        }
        throw error;
      }
    });
  return ElementRegistry.builtin().extend(
    load('ipfixDefinitions', config.decoding.ipfixDefinitions, loadIpfixDefinitions),
    load('netflowDefinitions', config.decoding.netflowDefinitions, loadNetflowDefinitions),
  );
}

