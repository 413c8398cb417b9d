// Every field the .d.ts declares, read from a real object: web/package/shopper-intent.d.ts is
// parsed with the TypeScript compiler (the pinned dev dependency) into type descriptors, the
// widget in the browser hands back real objects of each type (Update, ScoreDetail, SegmentDetail,
// ExperimentDetail, Factor, ScorePoint, ModelInfo, StoredState, thresholds, attributes(), error,
// assignments(), PrivateReport, ShareEstimates), and each object must have every declared field
// with the declared JS type and no field the .d.ts does not declare. A field added or removed on
// either side fails.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WEB, MODEL, setup, moduleHarness, test } from './helpers.mjs';

const ts = createRequire(join(WEB, 'package.json'))('typescript');
const DTS = join(WEB, 'package', 'shopper-intent.d.ts');

// ---------------------------------------------------------------------------------------------
// The .d.ts as descriptors: {t: 'number' | 'string' | 'boolean' | 'null' | 'undefined'},
// {t: 'literal', v}, {t: 'union', of}, {t: 'array', of}, {t: 'record', of},
// {t: 'instance', name}, {t: 'object', name?, fields: {name: {type, optional}}}.

/** Reads the interfaces, type aliases and classes of a declaration file. */
export function readDeclarations(text, fileName = 'x.d.ts') {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const decls = { interfaces: new Map(), aliases: new Map(), classes: new Map() };
  const visit = (node) => {
    if (ts.isInterfaceDeclaration(node)) decls.interfaces.set(node.name.text, node);
    else if (ts.isTypeAliasDeclaration(node)) decls.aliases.set(node.name.text, node);
    else if (ts.isClassDeclaration(node) && node.name) decls.classes.set(node.name.text, node);
    else if (ts.isModuleDeclaration(node)) return; // `declare global`: not the package's types
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return decls;
}

const memberName = (m) => (m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : null);

/** A type node as a descriptor; named interfaces and aliases are resolved. */
export function describeType(node, decls, seen = new Set()) {
  const K = ts.SyntaxKind;
  switch (node.kind) {
    case K.NumberKeyword: return { t: 'number' };
    case K.StringKeyword: return { t: 'string' };
    case K.BooleanKeyword: return { t: 'boolean' };
    case K.UndefinedKeyword: return { t: 'undefined' };
    case K.ParenthesizedType: return describeType(node.type, decls, seen);
    case K.TypeOperator: return describeType(node.type, decls, seen); // readonly T[]
    case K.ArrayType: return { t: 'array', of: describeType(node.elementType, decls, seen) };
    case K.UnionType: return { t: 'union', of: node.types.map((n) => describeType(n, decls, seen)) };
    case K.LiteralType:
      if (node.literal.kind === K.NullKeyword) return { t: 'null' };
      if (ts.isStringLiteral(node.literal)) return { t: 'literal', v: node.literal.text };
      if (ts.isNumericLiteral(node.literal)) return { t: 'literal', v: Number(node.literal.text) };
      if (node.literal.kind === K.TrueKeyword || node.literal.kind === K.FalseKeyword) return { t: 'literal', v: node.literal.kind === K.TrueKeyword };
      break;
    case K.TypeLiteral: return objectOf(node.members, decls, seen);
    case K.TypeReference: {
      const name = ts.isIdentifier(node.typeName) ? node.typeName.text : `${node.typeName.left.getText()}.${node.typeName.right.text}`;
      const args = node.typeArguments ?? [];
      if (name === 'Readonly' && args.length === 1) return describeType(args[0], decls, seen);
      if (name === 'Record' && args.length === 2) return { t: 'record', of: describeType(args[1], decls, seen) };
      if (decls.interfaces.has(name)) {
        if (seen.has(name)) throw new Error(`recursive type ${name}`);
        return { ...objectOf(decls.interfaces.get(name).members, decls, new Set([...seen, name])), name };
      }
      if (decls.aliases.has(name)) return describeType(decls.aliases.get(name).type, decls, seen);
      if (['Uint8Array', 'Date'].includes(name)) return { t: 'instance', name };
      throw new Error(`the type reader does not know ${name}`);
    }
    default:
  }
  throw new Error(`the type reader does not know ${K[node.kind]}: ${node.getText()}`);
}

function objectOf(members, decls, seen) {
  const fields = {};
  for (const m of members) {
    if (!ts.isPropertySignature(m)) throw new Error(`a data type with a ${ts.SyntaxKind[m.kind]}: ${m.getText()}`);
    fields[memberName(m)] = { type: describeType(m.type, decls, seen), optional: Boolean(m.questionToken) };
  }
  return { t: 'object', fields };
}

/** The type of a class property, or of a method's return value. */
function memberType(decls, className, member) {
  const cls = decls.classes.get(className);
  const m = cls?.members.find((x) => memberName(x) === member);
  if (!m || !m.type) throw new Error(`${className}.${member} is not declared with a type`);
  return describeType(m.type, decls);
}

// ---------------------------------------------------------------------------------------------
// Real objects, as snapshots that keep their JS types: {k: typeof | 'null' | 'array' | 'object'
// | 'instance', v?, items?, fields?, name?}.

function snapshotInPage() {
  // Runs in the page (a function source for page.evaluate): returns `window.__snap`.
  window.__snap = function snap(v, depth = 0) {
    if (v === null) return { k: 'null' };
    if (typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? { k: typeof v } : { k: typeof v, v };
    if (depth > 8) return { k: 'deep' };
    if (Array.isArray(v)) return { k: 'array', items: v.map((x) => snap(x, depth + 1)) };
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    if (tag !== 'Object') return { k: 'instance', name: tag };
    const fields = {};
    for (const key of Reflect.ownKeys(v)) fields[String(key)] = snap(v[key], depth + 1);
    return { k: 'object', fields };
  };
}

/** What is wrong with `snap` as a value of `desc`: a list of messages (empty when it fits). */
export function mismatches(snap, desc, path = 'value') {
  switch (desc.t) {
    case 'number': case 'string': case 'boolean': case 'undefined':
      return snap.k === desc.t ? [] : [`${path}: ${desc.t} declared, ${snap.k} found`];
    case 'null': return snap.k === 'null' ? [] : [`${path}: null declared, ${snap.k} found`];
    case 'literal': return snap.v === desc.v && snap.k === typeof desc.v ? [] : [`${path}: ${JSON.stringify(desc.v)} declared, ${JSON.stringify(snap.v ?? snap.k)} found`];
    case 'instance': return snap.k === 'instance' && snap.name === desc.name ? [] : [`${path}: a ${desc.name} declared, ${snap.name ?? snap.k} found`];
    case 'union': {
      const each = desc.of.map((d) => mismatches(snap, d, path));
      return each.some((m) => m.length === 0) ? [] : [`${path}: none of the union fits: ${each.flat().join('; ')}`];
    }
    case 'array':
      if (snap.k !== 'array') return [`${path}: an array declared, ${snap.k} found`];
      return snap.items.flatMap((x, i) => mismatches(x, desc.of, `${path}[${i}]`));
    case 'record':
      if (snap.k !== 'object') return [`${path}: a record declared, ${snap.k} found`];
      return Object.entries(snap.fields).flatMap(([k, x]) => mismatches(x, desc.of, `${path}.${k}`));
    case 'object': {
      if (snap.k !== 'object') return [`${path}: ${desc.name ?? 'an object'} declared, ${snap.k} found`];
      const out = [];
      for (const [name, f] of Object.entries(desc.fields)) {
        if (!(name in snap.fields)) { if (!f.optional) out.push(`${path}.${name}: declared, missing`); continue; }
        out.push(...mismatches(snap.fields[name], f.type, `${path}.${name}`));
      }
      for (const name of Object.keys(snap.fields)) if (!(name in desc.fields)) out.push(`${path}.${name}: present, not declared`);
      return out;
    }
    default: throw new Error(`unknown descriptor ${desc.t}`);
  }
}

// ---------------------------------------------------------------------------------------------

test('the type reader reads declarations as written, and the check catches a field added or removed', () => {
  const decls = readDeclarations(`
    export type Seg = 'a' | 'b';
    export interface Inner { readonly n: number; }
    export interface T { readonly s: Seg; readonly list: readonly string[]; readonly inner: Inner; opt?: boolean;
      readonly bytes: Uint8Array; readonly lit: { readonly x: number } | null; }
    export class C { readonly p: { readonly q: string } | null; m(): Readonly<Record<string, string>>; }`);
  const T = describeType(decls.aliases.get('Seg').type, decls);
  assert.deepEqual(T, { t: 'union', of: [{ t: 'literal', v: 'a' }, { t: 'literal', v: 'b' }] });
  const ref = ts.factory.createTypeReferenceNode('T');
  const t = describeType(ref, decls);
  assert.deepEqual(Object.keys(t.fields), ['s', 'list', 'inner', 'opt', 'bytes', 'lit']);
  assert.equal(t.fields.opt.optional, true);
  assert.deepEqual(t.fields.inner.type, { t: 'object', name: 'Inner', fields: { n: { type: { t: 'number' }, optional: false } } });
  assert.deepEqual(memberType(decls, 'C', 'm'), { t: 'record', of: { t: 'string' } });
  const good = { k: 'object', fields: {
    s: { k: 'string', v: 'a' }, list: { k: 'array', items: [{ k: 'string', v: 'x' }] }, inner: { k: 'object', fields: { n: { k: 'number', v: 1 } } },
    bytes: { k: 'instance', name: 'Uint8Array' }, lit: { k: 'null' } } };
  assert.deepEqual(mismatches(good, t), []);
  const extra = structuredClone(good);
  extra.fields.inner.fields.more = { k: 'number', v: 2 };
  assert.deepEqual(mismatches(extra, t), ['value.inner.more: present, not declared']);
  const missing = structuredClone(good);
  delete missing.fields.bytes;
  assert.deepEqual(mismatches(missing, t), ['value.bytes: declared, missing']);
  const wrong = structuredClone(good);
  wrong.fields.s = { k: 'string', v: 'c' };
  wrong.fields.list.items.push({ k: 'number', v: 3 });
  assert.equal(mismatches(wrong, t).length, 2);
});

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

test('every declared field of the runtime objects, and nothing else', { timeout: 60_000 }, async () => {
  const decls = readDeclarations(readFileSync(DTS, 'utf8'), DTS);
  const named = (name) => describeType(ts.factory.createTypeReferenceNode(name), decls);
  const expected = {
    Update: named('Update'),
    ScoreDetail: named('ScoreDetail'),
    SegmentDetail: named('SegmentDetail'),
    'shopper-intent:segment detail': named('SegmentDetail'),
    ExposureDetail: named('ExposureDetail'),
    ConversionDetail: named('ExperimentDetail'),
    Factor: named('Factor'),
    ScorePoint: named('ScorePoint'),
    ModelInfo: named('ModelInfo'),
    StoredState: named('StoredState'),
    PrivateReport: named('PrivateReport'),
    ShareEstimates: named('ShareEstimates'),
    'ShopperIntent.privateReport()': memberType(decls, 'ShopperIntent', 'privateReport'),
    'ShopperIntent.model': memberType(decls, 'ShopperIntent', 'model'),
    'ShopperIntent.thresholds': memberType(decls, 'ShopperIntent', 'thresholds'),
    'ShopperIntent.attributes()': memberType(decls, 'ShopperIntent', 'attributes'),
    'ShopperIntent.assignments()': memberType(decls, 'ShopperIntent', 'assignments'),
    'ShopperIntent.explain()': memberType(decls, 'ShopperIntent', 'explain'),
    'ShopperIntent.history()': memberType(decls, 'ShopperIntent', 'history'),
    'ShopperIntent.storedState()': memberType(decls, 'ShopperIntent', 'storedState'),
    'ShopperIntent.error (failed)': memberType(decls, 'ShopperIntent', 'error'),
    'ShopperIntent.status': memberType(decls, 'ShopperIntent', 'status'),
    'ShopperIntent.segment': memberType(decls, 'ShopperIntent', 'segment'),
    'ShopperIntent.score': memberType(decls, 'ShopperIntent', 'score'),
  };
  // The reader found what the package declares: no silent empty interface.
  for (const name of ['Update', 'ScoreDetail', 'SegmentDetail', 'ExperimentDetail', 'Factor', 'ScorePoint', 'ModelInfo', 'StoredState', 'PrivateReport', 'ShareEstimates']) {
    assert.ok(Object.keys(named(name).fields).length >= 3, `${name} is declared with its fields`);
  }

  const { page, context } = await moduleHarness(env, snapshotInPage);
  const got = await page.evaluate(async (model) => {
    const snap = window.__snap;
    const { ShopperIntent } = window.SI;
    const intent = await ShopperIntent.load({ model, storage: 'session', autoCapture: false });
    const seen = {};
    intent.on('score', (d) => { seen.ScoreDetail ??= d; });
    intent.on('segment', (d) => { if (d.segment === 'high') seen.SegmentDetail ??= d; });
    intent.on('exposure', (d) => { seen.ExposureDetail ??= d; });
    intent.on('conversion', (d) => { seen.ConversionDetail ??= d; });
    addEventListener('shopper-intent:segment', (e) => { if (e.detail.segment === 'high') seen.windowDetail ??= e.detail; });
    intent.experiment({ key: 'types', variants: ['a', 'b'], autoExpose: true });
    const now = Date.now();
    const update = intent.track({ type: 'view_item', item: 'sku-1', category: 'c', price: 12, ts: now - 60_000 });
    intent.track({ type: 'add_to_cart', item: 'sku-1', category: 'c', price: 12, quantity: 1, ts: now - 50_000 });
    const factors = intent.explain();
    const history = intent.history();
    intent.track({ type: 'purchase', item: 'sku-1', category: 'c', price: 12, quantity: 1, ts: now - 40_000 });
    await new Promise((r) => setTimeout(r, 400)); // the debounced save
    const failed = await ShopperIntent.load({ model: '/models/missing.bin', storage: 'memory', autoCapture: false });
    return {
      Update: snap(update),
      ScoreDetail: snap(seen.ScoreDetail),
      SegmentDetail: snap(seen.SegmentDetail),
      'shopper-intent:segment detail': snap(seen.windowDetail),
      ExposureDetail: snap(seen.ExposureDetail),
      ConversionDetail: snap(seen.ConversionDetail),
      Factor: snap(factors[0]),
      ScorePoint: snap(history[0]),
      ModelInfo: snap(intent.model),
      StoredState: snap(intent.storedState()),
      PrivateReport: snap(intent.privateReport('types')),
      ShareEstimates: snap(await ShopperIntent.estimateShares({ low: 5, high: 2 }, { values: ['low', 'medium', 'high'] })),
      'ShopperIntent.privateReport()': snap(intent.privateReport('segment', { epsilon: 2 })),
      'ShopperIntent.model': snap(intent.model),
      'ShopperIntent.thresholds': snap(intent.thresholds),
      'ShopperIntent.attributes()': snap(intent.attributes()),
      'ShopperIntent.assignments()': snap(intent.assignments()),
      'ShopperIntent.explain()': snap(factors),
      'ShopperIntent.history()': snap(intent.history()),
      'ShopperIntent.storedState()': snap(intent.storedState()),
      'ShopperIntent.error (failed)': snap(failed.error),
      'ShopperIntent.status': snap(intent.status),
      'ShopperIntent.segment': snap(intent.segment),
      'ShopperIntent.score': snap(intent.score),
      counts: { factors: factors.length, history: history.length },
    };
  }, MODEL);
  assert.ok(got.counts.factors > 0 && got.counts.history > 0, 'explain() and history() had entries to read');
  const problems = [];
  for (const [what, desc] of Object.entries(expected)) {
    const snap = got[what];
    assert.ok(snap && snap.k !== 'undefined' && snap.k !== 'null', `${what}: the page produced one`);
    problems.push(...mismatches(snap, desc, what));
  }
  assert.deepEqual(problems, [], 'the runtime objects match the .d.ts field for field');
  await context.close();
});
