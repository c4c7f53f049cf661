// Ember for Node.js: classes over Ember's C ABI (include/ember.h) through koffi.
//
//   const ember = require('ember-llm');
//   const model = new ember.Model('model.gguf');
//   const ctx = new ember.Context(model, { nCtx: 2048 });
//   for await (const text of ctx.generate('Once upon a time', { maxTokens: 64 })) process.stdout.write(text);
//   ctx.close(); model.close();
//
// The library is looked for in EMBER_LIBRARY (an override), inside this package (lib/, where
// `npm pack` puts a copy), then where the system loader finds an installed Ember (cmake --install,
// the libember2 package) and the usual prefixes; the error names every path tried.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const koffi = require('koffi');

const SONAME = 'libember.so.2';  // the ABI these bindings speak

function candidates() {
  const out = [];
  if (process.env.EMBER_LIBRARY) out.push(process.env.EMBER_LIBRARY);
  for (const dir of [path.join(__dirname, 'lib'), __dirname]) {
    for (const name of [SONAME, 'libember.so', 'libember.dylib']) out.push(path.join(dir, name));
  }
  out.push(SONAME);  // the loader's own search: ld.so.cache, LD_LIBRARY_PATH
  const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[os.arch()];
  for (const prefix of ['/usr/local', '/usr']) {
    for (const libdir of ['lib', 'lib64', multiarch && `lib/${multiarch}`]) {
      if (libdir) out.push(path.join(prefix, libdir, SONAME));
    }
  }
  return out;
}

function loadLibrary() {
  const tried = [];
  for (const p of candidates()) {
    if (path.isAbsolute(p) && !fs.existsSync(p)) {
      tried.push(`${p} (no such file)`);
      continue;
    }
    try {
      return [p, koffi.load(p)];
    } catch (e) {
      tried.push(`${p} (${e.message})`);
      if (p === process.env.EMBER_LIBRARY) break;  // an explicit override that fails is the answer
    }
  }
  throw new Error(`libember not found. Tried:\n  ${tried.join('\n  ')}\nInstall Ember (cmake --install, or the ` +
    'libember2 package), use a package made by `npm pack` (it carries the library), or set EMBER_LIBRARY to its path.');
}

const [libraryPath, lib] = loadLibrary();

// ---- types ----------------------------------------------------------------------------------------
koffi.opaque('ember_model');
koffi.opaque('ember_context');
koffi.opaque('ember_sampler');
const ModelParams = koffi.struct('ember_model_params', {
  struct_size: 'size_t', use_mmap: 'int32_t', progress: 'void *', progress_user_data: 'void *',
});
const ContextParams = koffi.struct('ember_context_params', {
  struct_size: 'size_t', n_ctx: 'int64_t', n_batch: 'int64_t', n_threads: 'int32_t', seed: 'uint64_t',
  memory_limit: 'uint64_t', context_shift: 'int32_t', n_keep: 'int64_t', kv_type: 'int32_t',
});
const SamplerParams = koffi.struct('ember_sampler_params', {
  struct_size: 'size_t', temperature: 'float', top_k: 'int32_t', top_p: 'float', min_p: 'float', repeat_penalty: 'float',
  repeat_last_n: 'int32_t', presence_penalty: 'float', frequency_penalty: 'float', seed: 'uint64_t',
});
const GenerateParams = koffi.struct('ember_generate_params', {
  struct_size: 'size_t', max_tokens: 'int64_t', stop: 'const char **', n_stop: 'size_t', add_special: 'int32_t',
  parse_special: 'int32_t',
});
const GenerateResult = koffi.struct('ember_generate_result', {
  struct_size: 'size_t', n_prompt_tokens: 'int64_t', n_generated_tokens: 'int64_t', stop_reason: 'int',
  prefill_seconds: 'double', decode_seconds: 'double',
});
const ChatMessage = koffi.struct('ember_chat_message', { role: 'const char *', content: 'const char *' });
const TextCallback = koffi.proto('int ember_text_callback(const void *text, size_t len, void *user)');

const f = (sig) => lib.func(sig);
const C = {
  version_string: f('const char *ember_version_string()'),
  abi_version: f('int32_t ember_abi_version()'),
  status_str: f('const char *ember_status_str(int status)'),
  last_error: f('const char *ember_last_error()'),
  model_params_init: f('void ember_model_params_init(_Out_ ember_model_params *p)'),
  model_load: f('int ember_model_load(const char *path, const ember_model_params *p, _Out_ ember_model **out)'),
  model_load_from_memory: f('int ember_model_load_from_memory(const void *data, size_t size, const ember_model_params *p, _Out_ ember_model **out)'),
  model_free: f('void ember_model_free(ember_model *m)'),
  model_architecture: f('const char *ember_model_architecture(const ember_model *m)'),
  model_n_vocab: f('int64_t ember_model_n_vocab(const ember_model *m)'),
  model_n_embd: f('int64_t ember_model_n_embd(const ember_model *m)'),
  model_n_layer: f('int64_t ember_model_n_layer(const ember_model *m)'),
  model_n_ctx_train: f('int64_t ember_model_n_ctx_train(const ember_model *m)'),
  model_token_bos: f('int32_t ember_model_token_bos(const ember_model *m)'),
  model_token_eos: f('int32_t ember_model_token_eos(const ember_model *m)'),
  model_chat_template: f('const char *ember_model_chat_template(const ember_model *m)'),
  model_meta: f('int ember_model_meta(const ember_model *m, const char *key, _Out_ uint8_t *buf, size_t size, _Out_ size_t *needed)'),
  tokenize: f('int ember_tokenize(const ember_model *m, const char *text, int64_t len, int32_t add_special, int32_t parse_special, _Out_ int32_t *tokens, size_t cap, _Out_ size_t *n)'),
  detokenize: f('int ember_detokenize(const ember_model *m, const int32_t *tokens, size_t n, int32_t special, _Out_ uint8_t *buf, size_t size, _Out_ size_t *needed)'),
  chat_apply: f('int ember_chat_apply_template(const ember_model *m, const ember_chat_message *msgs, size_t n, int32_t gen, _Out_ uint8_t *buf, size_t size, _Out_ size_t *needed)'),
  context_params_init: f('void ember_context_params_init(_Out_ ember_context_params *p)'),
  context_create: f('int ember_context_create(ember_model *m, const ember_context_params *p, _Out_ ember_context **out)'),
  context_free: f('void ember_context_free(ember_context *c)'),
  context_n_ctx: f('int64_t ember_context_n_ctx(const ember_context *c)'),
  context_n_past: f('int64_t ember_context_n_past(const ember_context *c)'),
  context_truncate: f('int ember_context_truncate(ember_context *c, int64_t n)'),
  context_interrupt: f('void ember_context_interrupt(ember_context *c)'),
  context_last_error: f('const char *ember_context_last_error(const ember_context *c)'),
  decode: f('int ember_decode(ember_context *c, const int32_t *tokens, size_t n)'),
  get_logits: f('const float *ember_get_logits(const ember_context *c)'),
  state_save: f('int ember_context_state_save(const ember_context *c, _Out_ uint8_t *buf, size_t size, _Out_ size_t *needed)'),
  state_load: f('int ember_context_state_load(ember_context *c, const uint8_t *data, size_t size)'),
  sampler_params_init: f('void ember_sampler_params_init(_Out_ ember_sampler_params *p)'),
  sampler_create: f('int ember_sampler_create(const ember_model *m, const ember_sampler_params *p, _Out_ ember_sampler **out)'),
  sampler_free: f('void ember_sampler_free(ember_sampler *s)'),
  generate_params_init: f('void ember_generate_params_init(_Out_ ember_generate_params *p)'),
  generate_result_init: f('void ember_generate_result_init(_Out_ ember_generate_result *r)'),
  generate: f('int ember_generate(ember_context *c, ember_sampler *s, const char *prompt, const ember_generate_params *p, ember_text_callback *cb, void *user, _Inout_ ember_generate_result *r)'),
};

const STOP_REASONS = ['eog', 'stop', 'length', 'callback', 'cancelled', 'context_full'];
const STATUS_NAMES = ['OK', 'INVALID_ARGUMENT', 'IO', 'FORMAT', 'UNSUPPORTED', 'OUT_OF_MEMORY', 'CONTEXT_FULL', 'CANCELLED', 'INTERNAL'];

class EmberError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'EmberError';
    this.status = status;
    this.code = STATUS_NAMES[status] || 'UNKNOWN';
  }
}

function check(status, message) {
  if (status !== 0) throw new EmberError(status, message || C.last_error() || C.status_str(status));
}

// snprintf-style C calls: size once, then fill.
function stringOut(call) {
  let buf = Buffer.alloc(256);
  const needed = [0];
  check(call(buf, buf.length, needed));
  if (needed[0] >= buf.length) {
    buf = Buffer.alloc(Number(needed[0]) + 1);
    check(call(buf, buf.length, needed));
  }
  return buf.subarray(0, Number(needed[0])).toString('utf8');
}

class Model {
  constructor(pathOrBuffer, options = {}) {
    checkOptions('Model', options, ['useMmap']);
    const { useMmap = true } = options;
    const out = [null];
    const p = {};
    C.model_params_init(p);
    p.use_mmap = useMmap ? 1 : 0;
    if (Buffer.isBuffer(pathOrBuffer)) check(C.model_load_from_memory(pathOrBuffer, pathOrBuffer.length, p, out));
    else check(C.model_load(String(pathOrBuffer), p, out));
    this.handle = out[0];
  }

  close() {
    if (this.handle) C.model_free(this.handle);
    this.handle = null;
  }

  get _h() {
    if (!this.handle) throw new EmberError(1, 'the model is closed');
    return this.handle;
  }

  get architecture() { return C.model_architecture(this._h); }
  get nVocab() { return Number(C.model_n_vocab(this._h)); }
  get nEmbd() { return Number(C.model_n_embd(this._h)); }
  get nLayer() { return Number(C.model_n_layer(this._h)); }
  get nCtxTrain() { return Number(C.model_n_ctx_train(this._h)); }
  get bos() { return C.model_token_bos(this._h); }
  get eos() { return C.model_token_eos(this._h); }
  get chatTemplate() { return C.model_chat_template(this._h); }

  meta(key) { return stringOut((b, n, need) => C.model_meta(this._h, key, b, n, need)); }

  tokenize(text, { addSpecial = true, parseSpecial = false } = {}) {
    const bytes = Buffer.from(text, 'utf8');
    let tokens = new Int32Array(bytes.length + 8);
    const n = [0];
    check(C.tokenize(this._h, text, bytes.length, addSpecial ? 1 : 0, parseSpecial ? 1 : 0, tokens, tokens.length, n));
    if (n[0] > tokens.length) {
      tokens = new Int32Array(Number(n[0]));
      check(C.tokenize(this._h, text, bytes.length, addSpecial ? 1 : 0, parseSpecial ? 1 : 0, tokens, tokens.length, n));
    }
    return Array.from(tokens.subarray(0, Number(n[0])));
  }

  detokenize(tokens) {
    const arr = Int32Array.from(tokens);
    return stringOut((b, n, need) => C.detokenize(this._h, arr, arr.length, 0, b, n, need));
  }

  applyChatTemplate(messages, { addGenerationPrompt = true } = {}) {
    const msgs = messages.map((m) => ({ role: m.role, content: m.content }));
    return stringOut((b, n, need) => C.chat_apply(this._h, msgs, msgs.length, addGenerationPrompt ? 1 : 0, b, n, need));
  }
}

// Options objects: a misspelt or unknown key is a TypeError, never silently ignored.
function checkOptions(what, options, allowed) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: options must be an object`);
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new TypeError(`${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
}

const SAMPLING_OPTIONS = ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'presencePenalty',
  'frequencyPenalty', 'seed'];

class Sampler {
  constructor(model, options = {}) {
    checkOptions('Sampler', options, SAMPLING_OPTIONS);
    const { temperature = 0.8, topK = 40, topP = 0.95, minP = 0.05, repeatPenalty = 1.0, repeatLastN = 64,
      presencePenalty = 0, frequencyPenalty = 0, seed = 0 } = options;
    const p = {};
    C.sampler_params_init(p);
    Object.assign(p, { temperature, top_k: topK, top_p: topP, min_p: minP, repeat_penalty: repeatPenalty,
      repeat_last_n: repeatLastN, presence_penalty: presencePenalty, frequency_penalty: frequencyPenalty, seed });
    const out = [null];
    check(C.sampler_create(model._h, p, out));
    this.handle = out[0];
  }

  close() {
    if (this.handle) C.sampler_free(this.handle);
    this.handle = null;
  }
}

class Context {
  constructor(model, options = {}) {
    checkOptions('Context', options, ['nCtx', 'nBatch', 'nThreads', 'seed', 'memoryLimit', 'kvType']);
    const { nCtx = 0, nBatch = 0, nThreads = 0, seed = 0, memoryLimit = 0, kvType = 'f32' } = options;
    const kvTypes = { f32: 0, f16: 1 };
    if (!(kvType in kvTypes)) throw new TypeError(`kvType must be 'f32' or 'f16', not ${kvType}`);
    const p = {};
    C.context_params_init(p);
    Object.assign(p, { n_ctx: nCtx, n_batch: nBatch, n_threads: nThreads, seed, memory_limit: memoryLimit, kv_type: kvTypes[kvType] });
    const out = [null];
    check(C.context_create(model._h, p, out));
    this.handle = out[0];
    this.model = model;
    this.lastResult = null;
    this.busy = false;
  }

  close() {
    if (this.busy) throw new EmberError(1, 'the context is generating; stop it first');
    if (this.handle) C.context_free(this.handle);
    this.handle = null;
  }

  get _h() {
    if (!this.handle) throw new EmberError(1, 'the context is closed');
    return this.handle;
  }

  _check(status) { if (status !== 0) check(status, C.context_last_error(this.handle)); }

  get nCtx() { return Number(C.context_n_ctx(this._h)); }
  get nPast() { return Number(C.context_n_past(this._h)); }

  decode(tokens) { this._check(C.decode(this._h, Int32Array.from(tokens), tokens.length)); }

  logits() {
    const p = C.get_logits(this._h);
    if (!p) throw new EmberError(1, 'no logits yet: decode first');
    return koffi.decode(p, koffi.array('float', this.model.nVocab));
  }

  reset() { this._check(C.context_truncate(this._h, 0)); }
  interrupt() { if (this.handle) C.context_interrupt(this.handle); }

  saveState() {
    const need = [0];
    check(C.state_save(this._h, null, 0, need));
    const buf = Buffer.alloc(Number(need[0]));
    check(C.state_save(this._h, buf, buf.length, need));
    return buf;
  }

  loadState(buf) { this._check(C.state_load(this._h, buf, buf.length)); }

  // An async iterator of text pieces (whole UTF-8 characters). ember_generate runs on a worker
  // thread; leaving the loop early stops it. Greedy without a sampler or sampling options; any
  // sampling option (temperature, topK, topP, minP, the penalties, seed) samples with Sampler's
  // defaults for the rest (temperature 0 stays greedy). lastResult says how it ended.
  generate(prompt, options = {}) {
    checkOptions('generate', options, ['maxTokens', 'stop', 'sampler', 'parseSpecial', ...SAMPLING_OPTIONS]);
    const { maxTokens = 256, stop = [], parseSpecial = false } = options;
    let { sampler = null } = options;
    const sampling = Object.fromEntries(SAMPLING_OPTIONS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    let own = null;
    if (Object.keys(sampling).length) {
      if (sampler) throw new TypeError(`generate: a sampler or sampling options, not both (got ${Object.keys(sampling).join(', ')})`);
      own = sampler = new Sampler(this.model, sampling);
    }
    const ctx = this;
    const pieces = [];
    let wake = null;
    let finished = false;
    let failure = null;
    let stopping = false;
    const notify = () => { if (wake) { const w = wake; wake = null; w(); } };
    const cb = koffi.register((text, len) => {
      pieces.push(Buffer.from(koffi.decode(text, koffi.array('uint8_t', Number(len)))).toString('utf8'));
      notify();
      return stopping ? 1 : 0;
    }, koffi.pointer(TextCallback));
    const p = {};
    C.generate_params_init(p);
    Object.assign(p, { max_tokens: maxTokens, stop: stop.length ? stop : null, n_stop: stop.length, parse_special: parseSpecial ? 1 : 0 });
    const r = {};
    C.generate_result_init(r);
    this.busy = true;
    C.generate.async(this._h, sampler ? sampler.handle : null, prompt, p, cb, null, r, (err, status) => {
      koffi.unregister(cb);
      if (own) own.close();
      ctx.busy = false;
      if (err) failure = err;
      else if (status !== 0) failure = new EmberError(status, C.context_last_error(ctx.handle));
      else ctx.lastResult = { stopReason: STOP_REASONS[r.stop_reason], nPromptTokens: Number(r.n_prompt_tokens),
        nGeneratedTokens: Number(r.n_generated_tokens), prefillSeconds: r.prefill_seconds, decodeSeconds: r.decode_seconds };
      finished = true;
      notify();
    });
    const waitFinished = async () => { while (!finished) await new Promise((res) => { wake = res; }); };
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        while (pieces.length === 0 && !finished) await new Promise((res) => { wake = res; });
        if (pieces.length) return { value: pieces.shift(), done: false };
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      async return() {  // the consumer left the loop: stop generating and wait for the worker
        stopping = true;
        ctx.interrupt();
        await waitFinished();
        return { value: undefined, done: true };
      },
    };
  }

  // OpenAI-style messages through the model's chat template.
  chat(messages, options = {}) {
    checkOptions('chat', options, ['maxTokens', 'stop', 'sampler', ...SAMPLING_OPTIONS]);
    const prompt = this.model.applyChatTemplate(messages);
    this.reset();
    return this.generate(prompt, { ...options, parseSpecial: true });
  }
}

module.exports = {
  Model, Context, Sampler, EmberError, libraryPath,
  version: () => C.version_string(),
  abiVersion: () => C.abi_version(),
};
