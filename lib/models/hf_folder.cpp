#include "hf_folder.h"

#include <iterator>
#include <nlohmann/json.hpp>
#include "formats/mapped_file.h"

namespace ember {
namespace {

Result<std::string> read_text(const std::string& path) { return read_regular_file(path); }

}  // namespace

Result<HfFolder> read_hf_folder(const std::string& dir) {
  HfFolder f;
  auto config = read_text(dir + "/config.json");
  if (!config) return config.status();
  auto desc = describe_hf_config(*config, dir + "/config.json");
  if (!desc) return desc.status();
  f.desc = *desc;
  auto tok_json = read_text(dir + "/tokenizer.json");
  if (!tok_json) return tok_json.status();
  std::string tok_config;
  if (auto tc = read_text(dir + "/tokenizer_config.json")) {
    tok_config = std::move(*tc);
    const nlohmann::json c = nlohmann::json::parse(tok_config, nullptr, false);
    if (c.is_object() && c.contains("chat_template")) {
      const nlohmann::json& t = c["chat_template"];
      if (t.is_string()) f.chat_template = t.get<std::string>();
      if (t.is_array())  // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        for (const auto& e : t)
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
            f.chat_template = e["template"].get<std::string>();
    }
  }
  auto tok = Tokenizer::from_hf_json_text(*tok_json, dir + "/tokenizer.json", tok_config);
  if (!tok) return tok.status();
  f.tokenizer = std::move(*tok);
  auto set = SafetensorsSet::open_dir(dir);
  if (!set) return set.status();
  auto weights = Weights::from_safetensors(std::move(*set), f.desc, dir);
  if (!weights) return weights.status();
  f.weights = std::move(*weights);
  return f;
}

}  // namespace ember
