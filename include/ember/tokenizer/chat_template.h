// Chat templates: the Jinja2 subset that real models' templates use (tokenizer.chat_template in
// GGUF, "chat_template" in tokenizer_config.json), rendered exactly as Hugging Face transformers'
// apply_chat_template renders them with Jinja2 (trim_blocks, lstrip_blocks, tojson without ASCII
// escaping and without sorting keys).
//
// Supported: {{ }}, {% if/elif/else %}, {% macro %} (called as a function), {% for %} (loop.index/index0/first/last/length/revindex,
// tuple unpacking, else), {% set %} (names and namespace attributes), comments, whitespace control,
// literals (strings, numbers, booleans, none, lists, dicts), + - * / // % ~, comparisons, and, or,
// not, in, x if c else y, attribute/index/slice access, string and dict methods, filters (trim,
// length, tojson, join, upper, lower, default, first, last, reject/select, map(attribute=...),
// string, int, list, items, replace, capitalize, safe) and tests (defined, none, string, number,
// mapping, iterable, equalto, ...), and the functions raise_exception, namespace, range and
// strftime_now. Anything else is an UNSUPPORTED error naming the construct, never a wrong prompt.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"

namespace ember {

struct ChatMessage {
  std::string role;
  std::string content;
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string_view source);
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

  // Renders with a context given as a JSON object (messages, add_generation_prompt, bos_token,
  // eos_token, tools, ...), as transformers passes it.
  Result<std::string> render_json(std::string_view context_json) const;
  // The usual call: messages plus the generation-prompt flag and the model's BOS/EOS strings.
  Result<std::string> apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                            const std::string& bos_token, const std::string& eos_token) const;

 private:
  ChatTemplate();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember
