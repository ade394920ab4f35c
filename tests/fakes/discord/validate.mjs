// Request bodies against Discord's OpenAPI 3.1 spec (reference/discord.md §4). The spec is read
// in place (never copied into the repo) from opts.openapi, $DISCORD_OPENAPI, or
// <repo>/../shared/discord/openapi.json; when it is absent, schema validation is skipped with
// one notice line and only the hand-written rules (rules.mjs) apply.
//
// One Ajv instance and its compiled validators are shared by every fake in the process (keyed
// by the spec's path): compiling an operation costs ~0.2 s the first time, then validation is
// ~20 µs per body.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default || Ajv2020Module;
const addFormats = addFormatsModule.default || addFormatsModule;
const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SPEC = path.resolve(here, '../../../../shared/discord/openapi.json');

const loaded = new Map();   // spec path -> SpecValidator | null
let noticed = false;

export function specPath(opt) {
  if (opt === false) return null;
  return opt || process.env.DISCORD_OPENAPI || DEFAULT_SPEC;
}

export function loadSpec(opt) {
  const p = specPath(opt);
  if (!p) return null;
  if (loaded.has(p)) return loaded.get(p);
  let v = null;
  if (fs.existsSync(p)) {
    v = new SpecValidator(p);
  } else if (!noticed) {
    noticed = true;
    console.error(`# fake-discord: OpenAPI spec not found at ${p}; request bodies are not schema-validated (the §4 rules still apply)`);
  }
  loaded.set(p, v);
  return v;
}

// Path templates are compared with their parameter names erased: the spec calls the same
// segment {webhook_id} or {application_id} depending on the page it came from.
export const shape = (template) => template.replace(/\{[^}]+\}/g, '{}');

// JSON pointer into the document for Ajv's $ref.
const pointer = (parts) => '#' + parts.map((s) => '/' + encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'))).join('');

class SpecValidator {
  constructor(file) {
    this.file = file;
    this.doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    // Discord's own formats: ranges and patterns are in the schemas themselves.
    for (const f of ['snowflake', 'int32', 'int64', 'double', 'nonce']) this.ajv.addFormat(f, true);
    this.ajv.addSchema(this.doc, 'openapi');
    this.ops = new Map();      // `${METHOD} ${shape}` -> spec path template
    for (const p of Object.keys(this.doc.paths)) this.ops.set(shape(p), p);
    this.cache = new Map();    // key -> {validate, branches} | null
  }

  // The requestBody schema of an operation, compiled once. Returns null when the operation has
  // no JSON body in the spec.
  compiled(method, template) {
    const key = `${method} ${shape(template)}`;
    if (this.cache.has(key)) return this.cache.get(key);
    let entry = null;
    const specTemplate = this.ops.get(shape(template));
    const op = specTemplate && this.doc.paths[specTemplate][method.toLowerCase()];
    const schema = op?.requestBody?.content?.['application/json']?.schema;
    if (schema) {
      const base = ['paths', specTemplate, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'];
      entry = { validate: this.ajv.compile({ $ref: 'openapi' + pointer(base) }), branches: null, base, schema };
    }
    this.cache.set(key, entry);
    return entry;
  }

  // Returns [] or a list of problems {path, code, message} like rules.mjs.
  validate(method, template, body) {
    const entry = this.compiled(method, template);
    if (!entry) return [];
    const data = coerce(body);
    if (entry.validate(data)) return [];
    let errors = entry.validate.errors;
    // A top-level anyOf (callbacks, webhook executes) fails in every branch; report the branch
    // that came closest so the message names the real problem.
    if (Array.isArray(entry.schema.anyOf)) {
      entry.branches ??= entry.schema.anyOf.map((_, i) => this.ajv.compile({ $ref: 'openapi' + pointer([...entry.base, 'anyOf', i]) }));
      let best = null;
      for (const b of entry.branches) {
        b(data);
        const errs = prune(b.errors || []);
        // Branches that reject the discriminating `type` value are not the intended one.
        const wrongType = errs.some((e) => e.instancePath === '/type' && (e.keyword === 'enum' || e.keyword === 'const'));
        const score = errs.length + (wrongType ? 1000 : 0);
        if (!best || score < best.score) best = { score, errs };
      }
      errors = best.errs;
    }
    return prune(errors).map(toProblem);
  }
}

// The spec types permissions as integers while Discord documents and accepts strings
// (reference §4): integer-parseable strings in allow/deny/permissions/default_member_permissions
// are checked as numbers. Attachment ids in requests are the files[n] index, an integer or a
// string, while the spec says snowflake string: integers are accepted there too.
const PERM_KEYS = new Set(['allow', 'deny', 'permissions', 'default_member_permissions']);
function coerce(v, key, parentKey) {
  if (Array.isArray(v)) return v.map((x) => coerce(x, key, parentKey)); // items keep the array's key
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = coerce(x, k, key);
    return o;
  }
  if (typeof v === 'string' && PERM_KEYS.has(key) && /^\d{1,20}$/.test(v)) return Number(v);
  if (typeof v === 'number' && key === 'id' && parentKey === 'attachments' && Number.isInteger(v)) return String(v);
  return v;
}

// Drops the noise of oneOf/anyOf: "must be null" from nullable unions and the summary errors,
// when a more specific error exists.
function prune(errors) {
  const specific = errors.filter((e) => !(e.keyword === 'oneOf' || e.keyword === 'anyOf' || (e.keyword === 'type' && [].concat(e.params.type).join() === 'null')));
  const list = specific.length ? specific : errors;
  const seen = new Set();
  return list.filter((e) => {
    const k = e.instancePath + '|' + e.keyword + '|' + e.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const CODES = { maxLength: 'BASE_TYPE_MAX_LENGTH', minLength: 'BASE_TYPE_MIN_LENGTH', maxItems: 'BASE_TYPE_MAX_LENGTH',
  minItems: 'BASE_TYPE_MIN_LENGTH', required: 'BASE_TYPE_REQUIRED', type: 'BASE_TYPE_TYPE', enum: 'BASE_TYPE_CHOICES',
  const: 'BASE_TYPE_CHOICES', maximum: 'NUMBER_TYPE_MAX', minimum: 'NUMBER_TYPE_MIN', pattern: 'STRING_TYPE_REGEX',
  format: 'BASE_TYPE_FORMAT' };

function toProblem(e) {
  const path = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') path.push(e.params.missingProperty);
  let message = e.message;
  if (e.keyword === 'maxLength' || e.keyword === 'maxItems') message = `Must be ${e.params.limit} or fewer in length.`;
  if (e.keyword === 'required') message = 'This field is required';
  if (e.keyword === 'enum') message = `Value must be one of ${JSON.stringify(e.params.allowedValues)}.`;
  return { path, code: CODES[e.keyword] || `SCHEMA_${e.keyword.toUpperCase()}`, message: `${message} (openapi: ${e.schemaPath})` };
}
