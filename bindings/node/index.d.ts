// Types of Ember's Node.js bindings (index.js).

/** The C status names, as in ember.h without the EMBER_ prefix. */
export type StatusCode =
  | 'OK' | 'INVALID_ARGUMENT' | 'IO' | 'FORMAT' | 'UNSUPPORTED' | 'OUT_OF_MEMORY' | 'CONTEXT_FULL' | 'CANCELLED'
  | 'INTERNAL' | 'UNKNOWN';

/** An Ember call failed: `code` names the C status, `status` is its number. */
export class EmberError extends Error {
  readonly status: number;
  readonly code: StatusCode;
  constructor(status: number, message: string);
}

export interface ModelOptions {
  /** Map the file (default) or read it into memory. */
  useMmap?: boolean;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** A loaded model: a GGUF file (path or bytes) or a Hugging Face folder. Shareable by contexts. */
export class Model {
  constructor(pathOrBuffer: string | Buffer, options?: ModelOptions);
  close(): void;
  readonly architecture: string;
  readonly nVocab: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nCtxTrain: number;
  readonly bos: number;
  readonly eos: number;
  readonly chatTemplate: string;
  /** A GGUF metadata value as text. */
  meta(key: string): string;
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  detokenize(tokens: readonly number[]): string;
  applyChatTemplate(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
}

export interface SamplingOptions {
  /** <= 0: greedy. Sampler's default 0.8. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** The same seed reproduces a run. */
  seed?: number;
}

export class Sampler {
  constructor(model: Model, options?: SamplingOptions);
  close(): void;
}

export interface ContextOptions {
  /** Tokens the KV cache holds; 0: the model's training context, at most 4096. */
  nCtx?: number;
  nBatch?: number;
  /** 0: Ember's default. */
  nThreads?: number;
  seed?: number;
  /** Bytes of KV cache + scratch allowed; 0: no limit. */
  memoryLimit?: number;
  kvType?: 'f32' | 'f16';
}

export type StopReason = 'eog' | 'stop' | 'length' | 'callback' | 'cancelled' | 'context_full';

export interface GenerateResult {
  stopReason: StopReason;
  nPromptTokens: number;
  nGeneratedTokens: number;
  prefillSeconds: number;
  decodeSeconds: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxTokens?: number;
  stop?: string[];
  /** Sample with this sampler (not together with sampling options). */
  sampler?: Sampler;
  /** Control tokens written in the prompt ("<|im_start|>") become their ids. */
  parseSpecial?: boolean;
}

export type ChatOptions = Omit<GenerateOptions, 'parseSpecial'>;

/** One conversation's state (KV cache) over a Model; used by one caller at a time. */
export class Context {
  constructor(model: Model, options?: ContextOptions);
  readonly model: Model;
  /** How the last generate() or chat() ended, also after leaving its loop early. */
  lastResult: GenerateResult | null;
  close(): void;
  readonly nCtx: number;
  readonly nPast: number;
  decode(tokens: readonly number[]): void;
  logits(): number[];
  reset(): void;
  /** Stops a running generate() at its next token; safe at any time. */
  interrupt(): void;
  saveState(): Buffer;
  loadState(state: Buffer): void;
  /** Whole UTF-8 text pieces of the continuation; leaving the loop early stops generation. */
  generate(prompt: string, options?: GenerateOptions): AsyncIterableIterator<string>;
  /** OpenAI-style messages through the model's chat template (the context is reset first). */
  chat(messages: readonly ChatMessage[], options?: ChatOptions): AsyncIterableIterator<string>;
}

/** The path libember was loaded from. */
export const libraryPath: string;
export function version(): string;
export function abiVersion(): number;
