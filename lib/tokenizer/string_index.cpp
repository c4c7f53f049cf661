// StringIndex and Vocab::index (tokenizer.h).
#include <bit>
#include <functional>

#include "ember/tokenizer/tokenizer.h"

namespace ember {

void StringIndex::build(const std::vector<std::string>& strings) {
  slots_.assign(std::bit_ceil(2 * strings.size() + 1), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < strings.size(); ++i) {
    size_t s = std::hash<std::string_view>{}(strings[i]) & mask;
    bool duplicate = false;
    for (; slots_[s] != 0; s = (s + 1) & mask) {
      if (strings[size_t(slots_[s] - 1)] == strings[i]) {
        duplicate = true;  // the first index keeps the string
        break;
      }
    }
    if (!duplicate) slots_[s] = int32_t(i + 1);
  }
}

int32_t StringIndex::find(std::string_view s, const std::vector<std::string>& strings) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(s) & mask; slots_[i] != 0; i = (i + 1) & mask)
    if (strings[size_t(slots_[i] - 1)] == s) return slots_[i] - 1;
  return -1;
}

void Vocab::index() {
  token_index.build(tokens);
  merge_index.build(merges);
}

}  // namespace ember
