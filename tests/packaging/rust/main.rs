//! A user's Rust program over the `ember` crate, linked statically against an installed Ember
//! (found by pkg-config): it runs with no libember.so and no LD_LIBRARY_PATH.
use ember::{Context, ContextOptions, Model, Sampler, SamplerOptions};

fn main() {
    let path = std::env::args().nth(1).expect("usage: use-ember MODEL");
    let model = Model::load(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut ctx = Context::new(&model, ContextOptions { n_ctx: 256, n_threads: 1, ..Default::default() }).unwrap();
    let text: String = ctx.tokens("Once upon a time", 16, None).unwrap().map(|t| t.unwrap().text).collect();
    println!("greedy: Once upon a time{text}");
    ctx.reset().unwrap();
    let mut sampler = Sampler::new(&model, &SamplerOptions { temperature: 0.9, seed: 42, ..Default::default() }).unwrap();
    let mut sampled = String::new();
    ctx.generate("Once upon a time", 16, Some(&mut sampler), |t| {
        sampled.push_str(t);
        true
    })
    .unwrap();
    println!("sampled: {sampled}");
    std::process::exit(if text.contains("there was a little girl") && !sampled.is_empty() { 0 } else { 1 });
}
