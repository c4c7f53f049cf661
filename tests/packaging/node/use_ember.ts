// A user's program in TypeScript: the ember-llm package installed from the tarball `npm pack`
// makes (it carries libember.so), type-checked with tsc --strict against index.d.ts, run with no
// EMBER_LIBRARY.
import { Context, GenerateResult, Model, libraryPath } from 'ember-llm';

async function main(modelPath: string): Promise<number> {
  const model = new Model(modelPath);
  const ctx = new Context(model, { nCtx: 256, nThreads: 1 });
  let text = 'Once upon a time';
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 16 })) text += piece;
  console.log(`${libraryPath}: ${text}`);
  const result: GenerateResult | null = ctx.lastResult;
  ctx.reset();
  let sampled = '';
  for await (const piece of ctx.generate('Once upon a time', { maxTokens: 16, temperature: 0.9, seed: 42 })) sampled += piece;
  console.log(`sampled: ${sampled}`);
  ctx.close();
  model.close();
  return text.includes('there was a little girl') && result?.stopReason === 'length' && sampled.length > 0 ? 0 : 1;
}

main(process.argv[2]).then((code) => process.exit(code), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
