import { createHash } from 'node:crypto';

type Json = Record<string, unknown>;

const escape = (text: unknown): string => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `code` spans, the only markup the document's descriptions use */
const prose = (text: unknown): string =>
  escape(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .split(/\n\n/)
    .map((paragraph) => `<p>${paragraph}</p>`)
    .join('');

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{margin:1.5rem 0 .3rem}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;padding:0 .2rem}
pre{padding:.6rem;overflow:auto}.method{font-weight:bold;text-transform:uppercase;margin-right:.4rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.op{border-left:3px solid #36c;padding-left:.8rem;margin:1.5rem 0}:target{background:#fff6d5}`;

/** the page's Content-Security-Policy: nothing but its own inline style */
export const REFERENCE_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'`;

const schemaText = (schema: unknown): string => `<pre>${escape(JSON.stringify(schema, null, 2))}</pre>`;

function parametersTable(parameters: Json[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters
    .map(
      (p) =>
        `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'required' : 'optional'}</td><td><code>${escape(JSON.stringify(p.schema))}</code>${p.description ? prose(p.description) : ''}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>name</th><th>in</th><th></th><th>schema</th></tr>${rows}</table>`;
}

const schemaLink = (ref: string): string => {
  const name = ref.split('/').pop() ?? ref;
  return `<a href="#schema-${escape(name)}">${escape(name)}</a>`;
};

/** an answer's schema: a link to its component, or for a problem the codes it may carry, each linked */
function schemaLabel(schema: Json | undefined): string {
  if (!schema) return '';
  if (typeof schema.$ref === 'string') return schemaLink(schema.$ref);
  const [base, narrowed] = (schema.allOf ?? []) as Json[];
  const types = (((narrowed?.properties as Json | undefined)?.type as Json | undefined)?.enum ??
    []) as string[];
  if (typeof base?.$ref === 'string') {
    const links = types.map((type) => `<a href="#${escape(type)}">${escape(type.split(':').pop())}</a>`);
    return `${schemaLink(base.$ref)}: ${links.join(', ')}`;
  }
  return `<code>${escape(JSON.stringify(schema))}</code>`;
}

function responsesTable(responses: Record<string, Json>): string {
  const rows = Object.entries(responses)
    .map(([status, response]) => {
      const content = Object.entries((response.content ?? {}) as Record<string, Json>)
        .map(
          ([type, media]) =>
            `<p><code>${escape(type)}</code> ${schemaLabel(media.schema as Json | undefined)}</p>`,
        )
        .join('');
      const headers = Object.keys((response.headers ?? {}) as Json)
        .map((name) => `<code>${escape(name)}</code>`)
        .join(' ');
      return `<tr><td>${escape(status)}</td><td>${prose(response.description)}${content}${headers ? `<p>headers: ${headers}</p>` : ''}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>status</th><th>answer</th></tr>${rows}</table>`;
}

/**
 * The human-readable reference, rendered here from the OpenAPI document: one self-contained page with
 * its own style and no script, CDN or font to fetch. Each problem type has an anchor named by its `type`
 * URN, so `/docs#urn:flash-sale:problem:sold_out` lands on its description.
 */
export function referencePage(document: Json): string {
  const info = document.info as Json;
  const paths = document.paths as Record<string, Record<string, Json>>;
  const components = document.components as Json;
  const problems = document['x-problem-types'] as Json[];

  const operations = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const security = (op.security ?? []) as Json[];
        const admin = security.some((s) => 'adminBearer' in s)
          ? security.length > 1
            ? '<p>The admin token shows more.</p>'
            : '<p><strong>Admin:</strong> <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code></p>'
          : '';
        const body = op.requestBody as Json | undefined;
        const bodySchema = body
          ? ((body.content as Record<string, Json>)['application/json']?.schema ?? {})
          : undefined;
        return `<div class="op" id="${escape(op.operationId)}"><h3><span class="method">${escape(method)}</span><code>${escape(path)}</code></h3>
<p>${escape(op.summary)}</p>${op.description ? prose(op.description) : ''}${admin}
${parametersTable((op.parameters ?? []) as Json[])}
${bodySchema ? `<p>Body (${body?.required ? 'required' : 'optional'}), <code>application/json</code>:</p>${schemaText(bodySchema)}` : ''}
${responsesTable(op.responses as Record<string, Json>)}</div>`;
      }),
    )
    .join('\n');

  const problemRows = problems
    .map(
      (p) =>
        `<tr id="${escape(p.type)}"><td><code>${escape(p.code)}</code></td><td>${escape(p.status)}</td><td>${escape(p.title)}</td><td>${prose(p.when)}</td></tr>`,
    )
    .join('\n');

  const schemas = Object.entries(components.schemas as Record<string, unknown>)
    .map(([name, schema]) => `<h3 id="schema-${escape(name)}">${escape(name)}</h3>${schemaText(schema)}`)
    .join('\n');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)}: API reference</title><style>${STYLE}</style></head>
<body><h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
${prose(info.description)}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escape(document.openapi)}).</p>
<h2 id="operations">Operations</h2>
${operations}
<h2 id="problem-types">Problem types</h2>
<p>Every refusal is <code>application/problem+json</code>; its <code>type</code> is the id of its row here.</p>
<table><tr><th>code</th><th>status</th><th>title</th><th>when</th></tr>
${problemRows}</table>
<h2 id="schemas">Schemas</h2>
${schemas}
</body></html>
`;
}
