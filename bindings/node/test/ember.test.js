// The Node bindings against the bundled stories260K model: facts, tokens, streaming (async
// iterator), early stop, state, errors.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('path');
const fs = require('fs');
const ember = require('..');

const STORIES = path.join(__dirname, '..', '..', '..', 'models', 'stories260K.gguf');
const GREEDY = ', there was a little girl named Lily. She loved to play outside in the park.';

test('model facts and tokens', () => {
  const m = new ember.Model(STORIES);
  assert.strictEqual(ember.version(), '0.2.0');
  assert.strictEqual(ember.abiVersion(), 2);
  assert.deepStrictEqual([m.architecture, m.nVocab, m.nEmbd, m.nLayer, m.nCtxTrain], ['llama', 512, 64, 5, 512]);
  assert.strictEqual(m.meta('llama.block_count'), '5');
  const ids = m.tokenize('Once upon a time');
  assert.strictEqual(ids[0], 1);
  assert.strictEqual(m.detokenize(ids.slice(1)), 'Once upon a time');
  assert.throws(() => m.applyChatTemplate([{ role: 'user', content: 'hi' }]), (e) => e.code === 'UNSUPPORTED');
  m.close();
  assert.throws(() => m.nVocab, (e) => e.code === 'INVALID_ARGUMENT');
});

test('streams the greedy story through an async iterator', async () => {
  const m = new ember.Model(STORIES);
  const ctx = new ember.Context(m, { nThreads: 1 });
  let text = '';
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 30 })) text += piece;
  assert.ok(text.startsWith(GREEDY), text);
  assert.strictEqual(ctx.lastResult.stopReason, 'length');
  assert.strictEqual(ctx.lastResult.nGeneratedTokens, 30);
  ctx.reset();
  let stopped = '';
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 100, stop: ['Lily'] })) stopped += piece;
  assert.strictEqual(stopped, ', there was a little girl named ');
  ctx.close();
  m.close();
});

test('a half-precision cache keeps the greedy story', async () => {
  const m = new ember.Model(STORIES);
  const ctx = new ember.Context(m, { nThreads: 1, kvType: 'f16' });
  let text = '';
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 30 })) text += piece;
  assert.ok(text.startsWith(GREEDY), text);
  ctx.close();
  assert.throws(() => new ember.Context(m, { kvType: 'q8_0' }), TypeError);
  m.close();
});

test('leaving the loop early stops generation', async () => {
  const m = new ember.Model(STORIES);
  const ctx = new ember.Context(m);
  let n = 0;
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 400 })) {
    assert.ok(typeof piece === 'string');
    if (++n === 3) break;
  }
  assert.ok(ctx.nPast < 100, `n_past ${ctx.nPast}`);
  ctx.close();
  m.close();
});

test('decode, logits, state and errors', () => {
  const m = new ember.Model(STORIES);
  const a = new ember.Context(m, { nThreads: 1 });
  const b = new ember.Context(m, { nThreads: 1 });
  a.decode([1, 403, 407, 261]);
  const logits = a.logits();
  assert.strictEqual(logits.indexOf(Math.max(...logits)), 378);
  b.loadState(a.saveState());
  assert.deepStrictEqual(b.logits(), logits);
  assert.throws(() => a.decode([512]), (e) => e.code === 'INVALID_ARGUMENT' && /512/.test(e.message));
  assert.throws(() => new ember.Model('/nonexistent.gguf'), (e) => e.code === 'IO');
  const bytes = fs.readFileSync(STORIES);
  assert.throws(() => new ember.Model(bytes.subarray(0, 100)), (e) => e.code === 'FORMAT');
  const fromMemory = new ember.Model(bytes);
  assert.strictEqual(fromMemory.nLayer, 5);
  assert.throws(() => new ember.Context(m, { memoryLimit: 100 }), (e) => e.code === 'OUT_OF_MEMORY');
  const small = new ember.Context(m, { nCtx: 8 });
  assert.throws(() => small.decode(new Array(12).fill(1)), (e) => e.code === 'CONTEXT_FULL');
  for (const x of [a, b, small, fromMemory, m]) x.close();
});

test('sampling options are applied, unknown options are errors', async () => {
  const m = new ember.Model(STORIES);
  const ctx = new ember.Context(m, { nThreads: 1 });
  const story = async (options = {}) => {
    ctx.reset();
    let text = '';
    for await (const piece of ctx.generate('Once upon a time', { maxTokens: 30, ...options })) text += piece;
    return text;
  };
  const greedy = await story();
  const seeded = await story({ seed: 5 });  // a seed alone samples, reproducibly
  assert.notStrictEqual(seeded, greedy);
  assert.strictEqual(await story({ seed: 5 }), seeded);
  assert.notStrictEqual(await story({ temperature: 1.5, seed: 3 }), greedy);
  assert.strictEqual(await story({ temperature: 1.5, seed: 3, topK: 1 }), greedy);  // one candidate left
  assert.strictEqual(await story({ temperature: 1.5, seed: 3, topP: 1e-6 }), greedy);
  assert.strictEqual(await story({ temperature: 0 }), greedy);
  assert.throws(() => ctx.generate('x', { temprature: 0.5 }), TypeError);
  assert.throws(() => ctx.chat([{ role: 'user', content: 'hi' }], { topk: 3 }), TypeError);
  const s = new ember.Sampler(m, { temperature: 0 });
  assert.throws(() => ctx.generate('x', { sampler: s, seed: 1 }), TypeError);
  s.close();
  assert.throws(() => new ember.Context(m, { ctx: 10 }), TypeError);
  ctx.close();
  m.close();
});

test('lastResult after leaving the loop early', async () => {
  const m = new ember.Model(STORIES);
  const ctx = new ember.Context(m, { nThreads: 1 });
  let n = 0;
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 200 })) {
    assert.ok(piece.length > 0);
    if (++n === 2) break;
  }
  assert.ok(['callback', 'cancelled'].includes(ctx.lastResult.stopReason), ctx.lastResult.stopReason);
  assert.ok(ctx.lastResult.nGeneratedTokens < 20);
  ctx.close();
  m.close();
});
