//! Ember for Rust: a safe API over its C ABI (the `ember-sys` crate), with nothing beyond std.
//!
//! ```no_run
//! let model = ember::Model::load("model.gguf")?;
//! let mut ctx = ember::Context::new(&model, ember::ContextOptions::default())?;
//! for piece in ctx.tokens("Once upon a time", 64, None)? {
//!     print!("{}", piece?.text);
//! }
//! # Ok::<(), ember::Error>(())
//! ```
//!
//! A `Model` is `Send + Sync` (immutable after loading); a `Context` borrows its model and is used
//! by one thread at a time; handles are freed on drop.

use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::ptr;

use ember_sys as sys;

/// What went wrong: the C status code and Ember's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    Io,
    Format,
    Unsupported,
    OutOfMemory,
    ContextFull,
    Cancelled,
    Internal,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn status_of(code: sys::ember_status) -> Status {
    match code {
        sys::EMBER_INVALID_ARGUMENT => Status::InvalidArgument,
        sys::EMBER_IO => Status::Io,
        sys::EMBER_FORMAT => Status::Format,
        sys::EMBER_UNSUPPORTED => Status::Unsupported,
        sys::EMBER_OUT_OF_MEMORY => Status::OutOfMemory,
        sys::EMBER_CONTEXT_FULL => Status::ContextFull,
        sys::EMBER_CANCELLED => Status::Cancelled,
        _ => Status::Internal,
    }
}

unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn check(code: sys::ember_status) -> Result<()> {
    if code == sys::EMBER_OK {
        return Ok(());
    }
    Err(Error { status: status_of(code), message: unsafe { text(sys::ember_last_error()) } })
}

fn invalid(message: &str) -> Error {
    Error { status: Status::InvalidArgument, message: message.to_string() }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| invalid("text contains a NUL byte"))
}

/// Calls an snprintf-style function twice when the first buffer is too small.
fn bytes_out(mut call: impl FnMut(*mut c_char, usize, *mut usize) -> sys::ember_status) -> Result<Vec<u8>> {
    let mut needed = 0usize;
    let mut buf = vec![0u8; 256];
    check(call(buf.as_mut_ptr() as *mut c_char, buf.len(), &mut needed))?;
    if needed >= buf.len() {
        buf = vec![0u8; needed + 1];
        check(call(buf.as_mut_ptr() as *mut c_char, buf.len(), &mut needed))?;
    }
    buf.truncate(needed);
    Ok(buf)
}

fn string_out(call: impl FnMut(*mut c_char, usize, *mut usize) -> sys::ember_status) -> Result<String> {
    Ok(String::from_utf8_lossy(&bytes_out(call)?).into_owned())
}

/// The library's version ("0.2.0").
pub fn version() -> String {
    unsafe { text(sys::ember_version_string()) }
}

// ---- models ------------------------------------------------------------------------------------

/// A loaded model (GGUF file or Hugging Face folder).
pub struct Model {
    raw: *mut sys::ember_model,
}

// The C ABI: a model is immutable after loading and may be shared across threads.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    pub fn load(path: &str) -> Result<Model> {
        let c = cstring(path)?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_model_load(c.as_ptr(), ptr::null(), &mut raw) })?;
        Ok(Model { raw })
    }

    /// A GGUF image in memory (copied).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_model_load_from_memory(bytes.as_ptr() as *const c_void, bytes.len(), ptr::null(), &mut raw) })?;
        Ok(Model { raw })
    }

    pub fn architecture(&self) -> String {
        unsafe { text(sys::ember_model_architecture(self.raw)) }
    }
    pub fn n_vocab(&self) -> i64 {
        unsafe { sys::ember_model_n_vocab(self.raw) }
    }
    pub fn n_embd(&self) -> i64 {
        unsafe { sys::ember_model_n_embd(self.raw) }
    }
    pub fn n_layer(&self) -> i64 {
        unsafe { sys::ember_model_n_layer(self.raw) }
    }
    pub fn n_ctx_train(&self) -> i64 {
        unsafe { sys::ember_model_n_ctx_train(self.raw) }
    }
    pub fn size_bytes(&self) -> u64 {
        unsafe { sys::ember_model_size_bytes(self.raw) }
    }
    pub fn bos(&self) -> Option<i32> {
        Some(unsafe { sys::ember_model_token_bos(self.raw) }).filter(|&t| t >= 0)
    }
    pub fn eos(&self) -> Option<i32> {
        Some(unsafe { sys::ember_model_token_eos(self.raw) }).filter(|&t| t >= 0)
    }
    /// End of turn (`<|im_end|>`, `<|eot_id|>`), where the model has one apart from eos.
    pub fn eot(&self) -> Option<i32> {
        Some(unsafe { sys::ember_model_token_eot(self.raw) }).filter(|&t| t >= 0)
    }
    pub fn chat_template(&self) -> String {
        unsafe { text(sys::ember_model_chat_template(self.raw)) }
    }

    /// A GGUF metadata value as text.
    pub fn meta(&self, key: &str) -> Result<String> {
        let k = cstring(key)?;
        string_out(|b, n, need| unsafe { sys::ember_model_meta(self.raw, k.as_ptr(), b, n, need) })
    }

    pub fn tokenize(&self, text: &str, add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        let mut out = vec![0i32; text.len() + 8];
        let mut n = 0usize;
        let call = |out: &mut Vec<i32>, n: &mut usize| unsafe {
            sys::ember_tokenize(self.raw, text.as_ptr() as *const c_char, text.len() as i64, add_special as i32,
                                parse_special as i32, out.as_mut_ptr(), out.len(), n)
        };
        check(call(&mut out, &mut n))?;
        if n > out.len() {
            out = vec![0i32; n];
            check(call(&mut out, &mut n))?;
        }
        out.truncate(n);
        Ok(out)
    }

    /// The bytes tokens stand for (may end inside a UTF-8 character).
    pub fn detokenize_bytes(&self, tokens: &[i32]) -> Result<Vec<u8>> {
        bytes_out(|b, n, need| unsafe { sys::ember_detokenize(self.raw, tokens.as_ptr(), tokens.len(), 0, b, n, need) })
    }

    /// The bytes of one token as they appear inside a text (may be part of a UTF-8 character).
    pub fn token_bytes(&self, token: i32) -> Result<Vec<u8>> {
        bytes_out(|b, n, need| unsafe { sys::ember_token_to_piece(self.raw, token, 0, b, n, need) })
    }

    pub fn detokenize(&self, tokens: &[i32]) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.detokenize_bytes(tokens)?).into_owned())
    }

    /// Renders (role, content) messages with the model's chat template.
    pub fn apply_chat_template(&self, messages: &[(&str, &str)], add_generation_prompt: bool) -> Result<String> {
        let owned: Vec<(CString, CString)> =
            messages.iter().map(|(r, c)| Ok((cstring(r)?, cstring(c)?))).collect::<Result<_>>()?;
        let msgs: Vec<sys::ember_chat_message> =
            owned.iter().map(|(r, c)| sys::ember_chat_message { role: r.as_ptr(), content: c.as_ptr() }).collect();
        string_out(|b, n, need| unsafe {
            sys::ember_chat_apply_template(self.raw, msgs.as_ptr(), msgs.len(), add_generation_prompt as i32, b, n, need)
        })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::ember_model_free(self.raw) }
    }
}

// ---- sampling ----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct SamplerOptions {
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub seed: u64,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions { temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, repeat_penalty: 1.0, seed: 0 }
    }
}

/// Chooses tokens from logits; the same seed reproduces a run.
pub struct Sampler<'m> {
    raw: *mut sys::ember_sampler,
    _model: PhantomData<&'m Model>,
}

impl<'m> Sampler<'m> {
    pub fn new(model: &'m Model, o: &SamplerOptions) -> Result<Sampler<'m>> {
        let mut p = unsafe { std::mem::zeroed::<sys::ember_sampler_params>() };
        unsafe { sys::ember_sampler_params_init(&mut p) };
        p.temperature = o.temperature;
        p.top_k = o.top_k;
        p.top_p = o.top_p;
        p.min_p = o.min_p;
        p.repeat_penalty = o.repeat_penalty;
        p.seed = o.seed;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_sampler_create(model.raw, &p, &mut raw) })?;
        Ok(Sampler { raw, _model: PhantomData })
    }

    pub fn sample(&mut self, ctx: &Context<'_>) -> Result<i32> {
        let mut t = 0i32;
        check(unsafe { sys::ember_sampler_sample(self.raw, ctx.raw, &mut t) })?;
        Ok(t)
    }
}

impl Drop for Sampler<'_> {
    fn drop(&mut self) {
        unsafe { sys::ember_sampler_free(self.raw) }
    }
}

// ---- contexts ----------------------------------------------------------------------------------

/// The KV cache's elements: F16 takes half the memory of F32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KvType {
    #[default]
    F32,
    F16,
}

#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    pub n_ctx: i64,
    pub n_batch: i64,
    pub n_threads: i32,
    pub memory_limit: u64,
    pub kv_type: KvType,
}

/// One conversation's KV cache over a model it borrows.
pub struct Context<'m> {
    raw: *mut sys::ember_context,
    model: &'m Model,
}

/// One generated token and the text that became final with it (whole UTF-8 characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub id: i32,
    pub text: String,
}

impl<'m> Context<'m> {
    pub fn new(model: &'m Model, o: ContextOptions) -> Result<Context<'m>> {
        let mut p = unsafe { std::mem::zeroed::<sys::ember_context_params>() };
        unsafe { sys::ember_context_params_init(&mut p) };
        p.n_ctx = o.n_ctx;
        p.n_batch = o.n_batch;
        p.n_threads = o.n_threads;
        p.memory_limit = o.memory_limit;
        p.kv_type = match o.kv_type {
            KvType::F32 => 0,
            KvType::F16 => 1,
        };
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_context_create(model.raw, &p, &mut raw) })?;
        Ok(Context { raw, model })
    }

    pub fn n_ctx(&self) -> i64 {
        unsafe { sys::ember_context_n_ctx(self.raw) }
    }
    pub fn n_past(&self) -> i64 {
        unsafe { sys::ember_context_n_past(self.raw) }
    }

    pub fn reset(&mut self) -> Result<()> {
        check(unsafe { sys::ember_context_truncate(self.raw, 0) })
    }

    pub fn decode(&mut self, tokens: &[i32]) -> Result<()> {
        check(unsafe { sys::ember_decode(self.raw, tokens.as_ptr(), tokens.len()) })
    }

    /// The next-token logits after the last decode (empty before any).
    pub fn logits(&self) -> &[f32] {
        let p = unsafe { sys::ember_get_logits(self.raw) };
        if p.is_null() {
            return &[];
        }
        unsafe { std::slice::from_raw_parts(p, self.model.n_vocab() as usize) }
    }

    pub fn save_state(&self) -> Result<Vec<u8>> {
        let mut needed = 0usize;
        check(unsafe { sys::ember_context_state_save(self.raw, ptr::null_mut(), 0, &mut needed) })?;
        let mut buf = vec![0u8; needed];
        check(unsafe { sys::ember_context_state_save(self.raw, buf.as_mut_ptr() as *mut c_void, buf.len(), &mut needed) })?;
        Ok(buf)
    }

    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        check(unsafe { sys::ember_context_state_load(self.raw, state.as_ptr() as *const c_void, state.len()) })
    }

    /// Streams the continuation of prompt through `on_text` (return false to stop), with Ember's
    /// own loop (stop strings, end-of-generation tokens). Greedy without a sampler. Control
    /// tokens written in the prompt (`<|im_start|>`, as `apply_chat_template` writes them) are
    /// parsed as such.
    pub fn generate(&mut self, prompt: &str, max_tokens: i64, sampler: Option<&mut Sampler<'m>>,
                    mut on_text: impl FnMut(&str) -> bool) -> Result<i64> {
        unsafe extern "C" fn trampoline(text: *const c_char, len: usize, user: *mut c_void) -> i32 {
            let f = &mut *(user as *mut &mut dyn FnMut(&str) -> bool);
            let s = String::from_utf8_lossy(std::slice::from_raw_parts(text as *const u8, len));
            if f(&s) { 0 } else { 1 }
        }
        let c = cstring(prompt)?;
        let mut p = unsafe { std::mem::zeroed::<sys::ember_generate_params>() };
        unsafe { sys::ember_generate_params_init(&mut p) };
        p.max_tokens = max_tokens;
        p.parse_special = 1;
        let mut r = unsafe { std::mem::zeroed::<sys::ember_generate_result>() };
        unsafe { sys::ember_generate_result_init(&mut r) };
        let mut f: &mut dyn FnMut(&str) -> bool = &mut on_text;
        let s = sampler.map_or(ptr::null_mut(), |s| s.raw);
        let status = unsafe {
            sys::ember_generate(self.raw, s, c.as_ptr(), &p, Some(trampoline), &mut f as *mut _ as *mut c_void, &mut r)
        };
        check(status)?;
        Ok(r.n_generated_tokens)
    }

    /// Renders messages with the model's chat template into an empty context (what it held is
    /// dropped) and streams the answer as `generate` does.
    pub fn chat(&mut self, messages: &[(&str, &str)], max_tokens: i64, sampler: Option<&mut Sampler<'m>>,
                on_text: impl FnMut(&str) -> bool) -> Result<i64> {
        let prompt = self.model.apply_chat_template(messages, true)?;
        self.reset()?;
        self.generate(&prompt, max_tokens, sampler, on_text)
    }

    /// An iterator over generated tokens: the prompt is decoded now (control tokens written in it
    /// parsed as such), each `next()` samples one token (greedy without a sampler), decodes it and
    /// returns it with its text. It ends at the model's end-of-sequence or end-of-turn token or
    /// after max_tokens.
    pub fn tokens<'c>(&'c mut self, prompt: &str, max_tokens: usize, sampler: Option<&'c mut Sampler<'m>>)
                      -> Result<TokenIter<'c, 'm>> {
        let ids = self.model.tokenize(prompt, self.n_past() == 0, true)?;
        if !ids.is_empty() {
            self.decode(&ids)?;
        } else if self.n_past() == 0 {
            return Err(invalid("empty prompt and empty context"));
        }
        Ok(TokenIter { ctx: self, sampler, left: max_tokens, pending: Vec::new(), done: false })
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        unsafe { sys::ember_context_free(self.raw) }
    }
}

pub struct TokenIter<'c, 'm> {
    ctx: &'c mut Context<'m>,
    sampler: Option<&'c mut Sampler<'m>>,
    left: usize,
    pending: Vec<u8>, // bytes of a character that has not completed yet
    done: bool,
}

impl Iterator for TokenIter<'_, '_> {
    type Item = Result<Token>;

    fn next(&mut self) -> Option<Result<Token>> {
        if self.done || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let id = match self.sampler.as_mut() {
            Some(s) => match s.sample(self.ctx) {
                Ok(t) => t,
                Err(e) => return Some(Err(e)),
            },
            None => {
                let l = self.ctx.logits();
                (0..l.len()).fold(0, |best, i| if l[i] > l[best] { i } else { best }) as i32
            }
        };
        if Some(id) == self.ctx.model.eos() || Some(id) == self.ctx.model.eot() {
            self.done = true;
            return None;
        }
        match self.ctx.model.token_bytes(id) {
            Ok(b) => self.pending.extend_from_slice(&b),
            Err(e) => return Some(Err(e)),
        }
        if let Err(e) = self.ctx.decode(&[id]) {
            self.done = true;
            return Some(Err(e));
        }
        // Hand out the complete characters; keep an unfinished one for the next token.
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(), // invalid bytes: pass them on, replaced
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        self.pending.drain(..valid);
        Some(Ok(Token { id, text }))
    }
}
