// The single-file bundle of the collector for Kubernetes (manifests/): esbuild bundles collector/src/cli/entry.ts
// and its dependencies into one ES module that plain `node` runs without node_modules; it is committed brotli-
// compressed (manifests/elk-flow-collector/elk-flow-collector.mjs.br), small enough for a ConfigMap. Checked to be current
// by comparing the decompressed text, so that differences between zlib versions do not matter.
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { build } from 'esbuild';

export const BUNDLE_PATH = 'manifests/elk-flow-collector/elk-flow-collector.mjs.br';

export async function bundleSource(root: string): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'collector/src/cli/entry.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies call require(); give the ES module one.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return result.outputFiles[0].text;
}

export const compressBundle = (source: string): Buffer =>
  brotliCompressSync(Buffer.from(source), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: source.length } });

export const decompressBundle = (compressed: Buffer): string => brotliDecompressSync(compressed).toString('utf8');
