import { compileTemplate, type CompiledTemplate, type CompileOptions, type TemplateDefinition } from './template.js';

/** Distinct templates kept compiled; past it the least recently learned goes (it is compiled again when needed). */
const MAX_COMPILED = 1024;

function signature(d: TemplateDefinition): string {
  let s = `${d.version}/${d.templateId}/${d.scopeFieldCount}`;
  for (const f of d.fields) s += `/${f.enterprise}.${f.id}.${f.length}${f.scope ? 's' : ''}${f.padding ? 'p' : ''}`;
  return s;
}

/**
 * A compiler that compiles each distinct template once, however many exporters send it. Every Antrea agent of a
 * cluster sends the same templates: compiled per exporter, each would cost its own TurboFan compilation of the
 * decoder and of the JSON writer of its layout (hundreds of milliseconds each). A compiled template is pure code
 * (bytes in, record out), so exporters can share it.
 */
export function sharedTemplateCompiler(options: CompileOptions): (definition: TemplateDefinition) => CompiledTemplate {
  const compiled = new Map<string, CompiledTemplate>();
  return (definition) => {
    const key = signature(definition);
    let template = compiled.get(key);
    if (template) {
      compiled.delete(key); // re-inserted below: Map order is the LRU order
    } else {
      template = compileTemplate(definition, options);
      if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    }
    compiled.set(key, template);
    return template;
  };
}
