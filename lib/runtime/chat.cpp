#include "ember/runtime/chat.h"

namespace ember {

Result<std::string> render_chat(const Model& model, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  if (model.chat_template().empty()) return unsupported("the model has no chat template");
  auto tmpl = ChatTemplate::parse(model.chat_template());
  if (!tmpl) return tmpl.status();
  const Tokenizer& tok = model.tokenizer();
  const Vocab& v = tok.vocab();
  const std::string bos = v.bos >= 0 ? tok.piece(v.bos, true) : std::string();
  const std::string eos = v.eos >= 0 ? tok.piece(v.eos, true) : std::string();
  return tmpl->apply(messages, add_generation_prompt, bos, eos);
}

Result<std::vector<int32_t>> prompt_tokens(const Model& model, const std::string& text, bool parse_special) {
  const Tokenizer& tok = model.tokenizer();
  const Vocab& v = tok.vocab();
  const std::string bos = v.bos >= 0 ? tok.piece(v.bos, true) : std::string();
  const bool has_bos = parse_special && !bos.empty() && text.compare(0, bos.size(), bos) == 0;
  return tok.encode(text, /*add_special=*/!has_bos, parse_special);
}

Result<std::vector<int32_t>> chat_prompt_tokens(const Model& model, const std::vector<ChatMessage>& messages,
                                                bool add_generation_prompt) {
  auto text = render_chat(model, messages, add_generation_prompt);
  if (!text) return text.status();
  return prompt_tokens(model, *text, /*parse_special=*/true);
}

}  // namespace ember
