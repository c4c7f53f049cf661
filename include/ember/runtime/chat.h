// Chat prompts: the model's own template rendered over OpenAI-style messages, then tokenized the
// way the template expects (its control tokens parsed as tokens, BOS added only when the template
// did not write it already).
#pragma once

#include <string>
#include <vector>

#include "ember/models/model.h"
#include "ember/tokenizer/chat_template.h"

namespace ember {

// The prompt text; UNSUPPORTED when the model carries no chat template.
Result<std::string> render_chat(const Model& model, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// The prompt's token ids.
Result<std::vector<int32_t>> chat_prompt_tokens(const Model& model, const std::vector<ChatMessage>& messages,
                                                bool add_generation_prompt);

// Tokenizes prompt text as a document start: BOS when the vocabulary asks for it (and the text
// does not begin with the BOS text already); control tokens in the text are parsed when
// parse_special is set.
Result<std::vector<int32_t>> prompt_tokens(const Model& model, const std::string& text, bool parse_special);

}  // namespace ember
