//! Raw declarations of Ember's C ABI, one for one with `include/ember.h` (the test
//! `declarations_match_the_header` keeps them in step). Use the `ember` crate for a safe API.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub type ember_status = c_int;
pub const EMBER_OK: ember_status = 0;
pub const EMBER_INVALID_ARGUMENT: ember_status = 1;
pub const EMBER_IO: ember_status = 2;
pub const EMBER_FORMAT: ember_status = 3;
pub const EMBER_UNSUPPORTED: ember_status = 4;
pub const EMBER_OUT_OF_MEMORY: ember_status = 5;
pub const EMBER_CONTEXT_FULL: ember_status = 6;
pub const EMBER_CANCELLED: ember_status = 7;
pub const EMBER_INTERNAL: ember_status = 8;

pub type ember_log_level = c_int;
pub type ember_pooling = c_int;
pub const EMBER_POOLING_LAST: ember_pooling = 0;
pub const EMBER_POOLING_MEAN: ember_pooling = 1;
pub type ember_stop_reason = c_int;

pub const EMBER_ABI_VERSION: i32 = 2;

#[repr(C)]
pub struct ember_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct ember_context {
    _private: [u8; 0],
}
#[repr(C)]
pub struct ember_sampler {
    _private: [u8; 0],
}

pub type ember_log_callback = Option<unsafe extern "C" fn(ember_log_level, *const c_char, *mut c_void)>;
pub type ember_progress_callback = Option<unsafe extern "C" fn(f32, *mut c_void) -> c_int>;
pub type ember_text_callback = Option<unsafe extern "C" fn(*const c_char, usize, *mut c_void) -> c_int>;

#[repr(C)]
pub struct ember_model_params {
    pub struct_size: usize,
    pub use_mmap: i32,
    pub progress: ember_progress_callback,
    pub progress_user_data: *mut c_void,
}

#[repr(C)]
pub struct ember_loader {
    pub struct_size: usize,
    pub size: Option<unsafe extern "C" fn(*mut c_void) -> i64>,
    pub read: Option<unsafe extern "C" fn(*mut c_void, usize, *mut c_void) -> i64>,
    pub close: Option<unsafe extern "C" fn(*mut c_void)>,
    pub user_data: *mut c_void,
}

#[repr(C)]
pub struct ember_chat_message {
    pub role: *const c_char,
    pub content: *const c_char,
}

#[repr(C)]
pub struct ember_context_params {
    pub struct_size: usize,
    pub n_ctx: i64,
    pub n_batch: i64,
    pub n_threads: i32,
    pub seed: u64,
    pub memory_limit: u64,
    pub context_shift: i32,
    pub n_keep: i64,
    pub kv_type: i32,
}

#[repr(C)]
pub struct ember_sampler_params {
    pub struct_size: usize,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub seed: u64,
}

#[repr(C)]
pub struct ember_generate_params {
    pub struct_size: usize,
    pub max_tokens: i64,
    pub stop: *const *const c_char,
    pub n_stop: usize,
    pub add_special: i32,
    pub parse_special: i32,
}

#[repr(C)]
pub struct ember_generate_result {
    pub struct_size: usize,
    pub n_prompt_tokens: i64,
    pub n_generated_tokens: i64,
    pub stop_reason: ember_stop_reason,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}

extern "C" {
    pub fn ember_version_number() -> i32;
    pub fn ember_version_string() -> *const c_char;
    pub fn ember_abi_version() -> i32;
    pub fn ember_status_str(status: ember_status) -> *const c_char;
    pub fn ember_last_error() -> *const c_char;
    pub fn ember_log_set(callback: ember_log_callback, user_data: *mut c_void);

    pub fn ember_model_params_init(params: *mut ember_model_params);
    pub fn ember_model_load(path: *const c_char, params: *const ember_model_params, out: *mut *mut ember_model) -> ember_status;
    pub fn ember_model_load_from_memory(data: *const c_void, size: usize, params: *const ember_model_params,
                                        out: *mut *mut ember_model) -> ember_status;
    pub fn ember_model_load_from_loader(loader: *const ember_loader, params: *const ember_model_params,
                                        out: *mut *mut ember_model) -> ember_status;
    pub fn ember_model_free(model: *mut ember_model);
    pub fn ember_model_architecture(model: *const ember_model) -> *const c_char;
    pub fn ember_model_n_vocab(model: *const ember_model) -> i64;
    pub fn ember_model_n_embd(model: *const ember_model) -> i64;
    pub fn ember_model_n_layer(model: *const ember_model) -> i64;
    pub fn ember_model_n_ctx_train(model: *const ember_model) -> i64;
    pub fn ember_model_size_bytes(model: *const ember_model) -> u64;
    pub fn ember_model_token_bos(model: *const ember_model) -> i32;
    pub fn ember_model_token_eos(model: *const ember_model) -> i32;
    pub fn ember_model_token_eot(model: *const ember_model) -> i32;
    pub fn ember_model_chat_template(model: *const ember_model) -> *const c_char;
    pub fn ember_model_meta(model: *const ember_model, key: *const c_char, buf: *mut c_char, buf_size: usize,
                            out_needed: *mut usize) -> ember_status;

    pub fn ember_tokenize(model: *const ember_model, text: *const c_char, len: i64, add_special: i32, parse_special: i32,
                          tokens: *mut i32, capacity: usize, out_n_tokens: *mut usize) -> ember_status;
    pub fn ember_detokenize(model: *const ember_model, tokens: *const i32, n_tokens: usize, special: i32, buf: *mut c_char,
                            buf_size: usize, out_needed: *mut usize) -> ember_status;
    pub fn ember_token_to_piece(model: *const ember_model, token: i32, special: i32, buf: *mut c_char, buf_size: usize,
                                out_needed: *mut usize) -> ember_status;
    pub fn ember_chat_apply_template(model: *const ember_model, messages: *const ember_chat_message, n_messages: usize,
                                     add_generation_prompt: i32, buf: *mut c_char, buf_size: usize,
                                     out_needed: *mut usize) -> ember_status;

    pub fn ember_context_params_init(params: *mut ember_context_params);
    pub fn ember_context_create(model: *mut ember_model, params: *const ember_context_params,
                                out: *mut *mut ember_context) -> ember_status;
    pub fn ember_context_free(ctx: *mut ember_context);
    pub fn ember_context_n_ctx(ctx: *const ember_context) -> i64;
    pub fn ember_context_n_past(ctx: *const ember_context) -> i64;
    pub fn ember_context_memory_bytes(ctx: *const ember_context) -> u64;
    pub fn ember_context_truncate(ctx: *mut ember_context, n_keep: i64) -> ember_status;
    pub fn ember_context_interrupt(ctx: *mut ember_context);
    pub fn ember_context_last_error(ctx: *const ember_context) -> *const c_char;
    pub fn ember_decode(ctx: *mut ember_context, tokens: *const i32, n_tokens: usize) -> ember_status;
    pub fn ember_get_logits(ctx: *const ember_context) -> *const f32;
    pub fn ember_get_embeddings(ctx: *const ember_context, pooling: ember_pooling, out: *mut f32, capacity: usize) -> ember_status;
    pub fn ember_context_state_save(ctx: *const ember_context, buf: *mut c_void, buf_size: usize,
                                    out_needed: *mut usize) -> ember_status;
    pub fn ember_context_state_load(ctx: *mut ember_context, data: *const c_void, size: usize) -> ember_status;

    pub fn ember_sampler_params_init(params: *mut ember_sampler_params);
    pub fn ember_sampler_create(model: *const ember_model, params: *const ember_sampler_params,
                                out: *mut *mut ember_sampler) -> ember_status;
    pub fn ember_sampler_free(sampler: *mut ember_sampler);
    pub fn ember_sampler_sample(sampler: *mut ember_sampler, ctx: *const ember_context, out_token: *mut i32) -> ember_status;
    pub fn ember_sampler_reseed(sampler: *mut ember_sampler, seed: u64);

    pub fn ember_generate_params_init(params: *mut ember_generate_params);
    pub fn ember_generate_result_init(result: *mut ember_generate_result);
    pub fn ember_generate(ctx: *mut ember_context, sampler: *mut ember_sampler, prompt: *const c_char,
                          params: *const ember_generate_params, callback: ember_text_callback, user_data: *mut c_void,
                          result: *mut ember_generate_result) -> ember_status;
}

#[cfg(test)]
mod tests {
    /// Every EMBER_API function of include/ember.h is declared here, and nothing else.
    #[test]
    fn declarations_match_the_header() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../include/ember.h");
        let header = std::fs::read_to_string(root).expect("include/ember.h");
        let ours = include_str!("lib.rs");
        let mut in_header = Vec::new();
        for line in header.lines().filter(|l| l.starts_with("EMBER_API ")) {
            let name = line.split('(').next().unwrap().split_whitespace().last().unwrap().trim_start_matches('*');
            in_header.push(name.to_string());
        }
        let mut declared = Vec::new();
        for line in ours.lines().map(str::trim).filter(|l| l.starts_with("pub fn ember_")) {
            declared.push(line["pub fn ".len()..].split('(').next().unwrap().to_string());
        }
        in_header.sort();
        declared.sort();
        assert_eq!(in_header, declared);
        assert!(in_header.len() > 40);
    }

    #[test]
    fn struct_layouts_match_the_c_ones() {
        use std::mem::size_of;
        assert_eq!(size_of::<super::ember_context_params>(), 72);
        assert_eq!(size_of::<super::ember_sampler_params>(), 48);
        assert_eq!(size_of::<super::ember_generate_result>(), 48);
    }
}
