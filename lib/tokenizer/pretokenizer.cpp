#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <map>

namespace ember {
namespace {

// The regexes of each pre-tokenizer, from the models' tokenizer.json (as llama.cpp's
// llama-vocab.cpp adapts them: case-insensitive contractions spelled out).
const std::string kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const std::string kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::map<std::string, std::vector<std::string>>& table() {
  static const std::map<std::string, std::vector<std::string>> t = [] {
    std::map<std::string, std::vector<std::string>> m;
    m["default"] = {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
    for (const char* n : {"llama3", "llama-v3", "llama-bpe", "falcon3", "dbrx", "smaug-bpe", "chatglm-bpe"})
      m[n] = {kLlama3};
    for (const char* n : {"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez"}) m[n] = {kQwen2};
    for (const char* n : {"gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "jina-v2-es",
                          "jina-v2-de", "jina-v2-code", "roberta-bpe", "gigachat"})
      m[n] = {kGpt2};
    for (const char* n : {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone"})
      m[n] = {R"(\p{N})", kGpt2};
    m["falcon"] = {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"};
    m["deepseek-llm"] = {
        "[\r\n]",
        "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-"
        "\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-"
        "\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-"
        "\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-"
        "\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-"
        "\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134"
        "\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-"
        "\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
        "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-"
        "\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+",
        "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
        "\\s+$",
        "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
        "\\p{N}+"};
    m["deepseek-coder"] = {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
                           R"(\p{N})"};
    m["deepseek-v3"] = {
        R"(\p{N}{1,3})", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
        "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"};
    return m;
  }();
  return t;
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::from_patterns(const std::vector<std::string>& patterns) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const std::string& pat : patterns) {
    int err = 0;
    PCRE2_SIZE at = 0;
    // UTF + UCP: \s, \p{L}, \d... follow Unicode properties, as the models' Rust/Oniguruma regexes do.
    // DOLLAR_ENDONLY: "$" means the end of the piece, not "before a final newline".
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.c_str()), pat.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &at, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return format_error("pre-tokenizer regex does not compile at offset " + std::to_string(at) + ": " +
                            reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // faster when available; plain matching otherwise
    auto r = std::make_unique<Regex>();
    r->code = code;
    p->regexes_.push_back(std::move(r));
  }
  return p;
}

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::for_name(const std::string& name) {
  auto it = table().find(name.empty() ? "default" : name);
  if (it == table().end()) return unsupported("unknown pre-tokenizer '" + name + "' (tokenizer.ggml.pre)");
  return from_patterns(it->second);
}

std::string PreTokenizer::name_matching(const std::vector<std::string>& patterns) {
  auto want = from_patterns(patterns);
  if (!want) return "";
  // Texts that tell the families apart: contractions in both cases, digit runs, CJK and kana,
  // punctuation glued to letters, newlines and whitespace runs, accents, emoji.
  static const std::string kProbes[] = {
      "Hello World! It's 2024... DON'T we'LL 1234567 +-*/ x=y; (a,b) [c]",
      "\u4f60\u597d\u4e16\u754c \u3053\u3093\u306b\u3061\u306f \uc548\ub155 caf\u00e9 na\u00efve \U0001F600\U0001F680",
      "  leading\n\n\ttabs \r\n  trailing   \n end.",
      "snake_case camelCase 3.14159 $100 #tag @user a--b \u00bfQu\u00e9? \u0661\u0662\u0663",
  };
  // Most specific first: several names share the GPT-2 regex.
  for (const char* name : {"qwen2", "llama-bpe", "deepseek-v3", "deepseek-llm", "deepseek-coder", "smollm", "falcon", "gpt2",
                           "default"}) {
    auto cand = for_name(name);
    if (!cand) continue;
    bool same = true;
    for (const std::string& p : kProbes) same = same && (*cand)->split(p) == (*want)->split(p);
    if (same) return name;
  }
  return "";
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces = {text};
  if (text.empty()) return {};
  for (const auto& re : regexes_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re->code, nullptr);
    std::vector<std::string_view> next;
    for (std::string_view piece : pieces) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t pos = 0, gap_start = 0;
      while (pos <= piece.size()) {
        const int rc = pcre2_match(re->code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t b = ov[0], e = ov[1];
        if (e == b) {  // an empty match: step over one character and look again
          if (b >= piece.size()) break;
          size_t k = b + 1;
          while (k < piece.size() && (uint8_t(piece[k]) & 0xC0) == 0x80) ++k;
          pos = k;
          continue;
        }
        if (b > gap_start) next.push_back(piece.substr(gap_start, b - gap_start));
        next.push_back(piece.substr(b, e - b));
        gap_start = pos = e;
      }
      if (gap_start < piece.size()) next.push_back(piece.substr(gap_start));
    }
    pcre2_match_data_free(md);
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace ember
