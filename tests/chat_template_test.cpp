// Chat templates against the shared rendering vectors (Jinja2 renderings of the Qwen2.5 and
// DeepSeek-R1-Distill templates, and llama.cpp's fixtures), plus the engine's own rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ember/tokenizer/chat_template.h"
#include "test_util.h"

namespace ember {
namespace {

std::string shared(const std::string& rel) { return std::string(EMBER_SHARED_DATA) + "/" + rel; }

nlohmann::json load_vectors() {
  std::vector<uint8_t> raw;
  if (!test::read_file(shared("vectors/chat_templates/chat_template_vectors.json"), &raw)) return nullptr;
  return nlohmann::json::parse(raw.begin(), raw.end());
}

TEST(ChatTemplateVectors, RenderedCasesMatchJinja2) {
  const nlohmann::json v = load_vectors();
  if (v.is_null()) GTEST_SKIP() << "vectors not present";
  ASSERT_GE(v.at("rendered").size(), 12u);
  for (const auto& c : v.at("rendered")) {
    std::vector<uint8_t> src;
    ASSERT_TRUE(test::read_file(shared(c.at("template_file")), &src));
    auto t = ChatTemplate::parse(std::string(src.begin(), src.end()));
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    nlohmann::json ctx = {{"messages", v.at("conversations").at(c.at("conversation").get<std::string>())},
                          {"add_generation_prompt", c.at("add_generation_prompt")},
                          {"bos_token", c.at("bos_token")},
                          {"eos_token", c.at("eos_token")}};
    auto out = t->render_json(ctx.dump());
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(*out, c.at("expected").get<std::string>()) << c.at("template_file") << " / " << c.at("conversation");
  }
}

TEST(ChatTemplateVectors, LlamaCppFixturesMatch) {
  const nlohmann::json v = load_vectors();
  if (v.is_null()) GTEST_SKIP() << "vectors not present";
  for (const auto& c : v.at("llama_cpp_fixtures")) {
    auto t = ChatTemplate::parse(c.at("template_str").get<std::string>());
    ASSERT_TRUE(t.is_ok()) << c.at("name") << ": " << t.status().to_string();
    nlohmann::json ctx = {{"messages", v.at("llama_cpp_conversation")},
                          {"add_generation_prompt", true},
                          {"bos_token", c.value("bos_token", "")},
                          {"eos_token", c.value("eos_token", "")}};
    auto out = t->render_json(ctx.dump());
    ASSERT_TRUE(out.is_ok()) << c.at("name") << ": " << out.status().to_string();
    EXPECT_EQ(*out, c.at("expected_output").get<std::string>()) << c.at("name");
  }
}

std::string render(const std::string& src, const std::string& ctx = "{}") {
  auto t = ChatTemplate::parse(src);
  if (!t) return "PARSE " + t.status().to_string();
  auto r = t->render_json(ctx);
  return r ? *r : "RENDER " + r.status().to_string();
}

TEST(ChatTemplateEngine, WhitespaceControlAndBlocksTrimLikeTransformers) {
  EXPECT_EQ(render("a\n  {% if true %}\n  b\n  {% endif %}\nc"), "a\n  b\nc");
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("{{ 'x' }}\n{# comment #}\ny"), "x\ny");
}

TEST(ChatTemplateEngine, PythonValueSemantics) {
  EXPECT_EQ(render("{{ none }} {{ true }} {{ 3 // 2 }} {{ 7 % 3 }} {{ 1.5 + 1 }} {{ [1, 'a'] }}"), "None True 1 1 2.5 [1, 'a']");
  EXPECT_EQ(render("{{ 'a b  c'.split() | length }} {{ 'x</think>y'.split('</think>')[-1] }} {{ '  t '|trim }}"), "3 y t");
  EXPECT_EQ(render("{{ '日本語' | length }}"), "3");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [true, none, 'é']} | tojson }}"), "{\"b\": 1, \"a\": [true, null, \"é\"]}");
  EXPECT_EQ(render("{{ x | tojson(indent=2) }}", R"({"x": {"k": [1]}})"), "{\n  \"k\": [\n    1\n  ]\n}");
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", R"({"d": {"z": 1, "a": 2}})"), "z=1;a=2;");
  EXPECT_EQ(render("{{ xs[1:] }} {{ xs | join('-') }} {{ xs | reject('equalto', 2) | list }}", R"({"xs": [1, 2, 3]})"),
            "[2, 3] 1-2-3 [1, 3]");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "3");
  EXPECT_EQ(render("{% for i in [] %}x{% else %}empty{% endfor %}{% for i in [1,2] %}{{ loop.index }}{{ loop.last }}{% endfor %}"),
            "empty1False2True");
  EXPECT_EQ(render("{{ a if a is defined else 'd' }} {{ b is none }} {{ 'x' in 'xyz' }} {{ 2 not in [1] }}", R"({"b": null})"),
            "d True True True");
}

TEST(ChatTemplateEngine, MacrosAndSliceSteps) {
  EXPECT_EQ(render("{% macro b(x, y='!') %}[{{ x }}{{ y }}]{% endmacro %}{{ b(1) }}{{ b(2, y='?') }}"), "[1!][2?]");
  EXPECT_EQ(render("{{ xs[::-1] }} {{ xs[::2] }} {{ 'abc'[::-1] }}", R"({"xs": [1, 2, 3]})"), "[3, 2, 1] [1, 3] cba");
}

TEST(ChatTemplateEngine, ErrorsNameTheConstruct) {
  auto call = ChatTemplate::parse("{% call f() %}x{% endcall %}");
  ASSERT_FALSE(call.is_ok());
  EXPECT_EQ(call.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(call.status().message().find("call"), std::string::npos);
  EXPECT_NE(render("{{ x | wordwrap }}").find("UNSUPPORTED"), std::string::npos);
  EXPECT_NE(render("{{ x | wordwrap }}").find("wordwrap"), std::string::npos);
  EXPECT_NE(render("{{ raise_exception('no system role') }}").find("no system role"), std::string::npos);
  EXPECT_NE(render("{% if x %}").find("FORMAT"), std::string::npos);
  // Hostile templates stop with an error instead of exhausting the host.
  EXPECT_NE(render("{% for i in range(10**9) %}{% endfor %}").find("range()"), std::string::npos);
  EXPECT_NE(render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nest deeper"), std::string::npos);
  EXPECT_NE(render("{{ 'unterminated }}").find("FORMAT"), std::string::npos);
}

TEST(ChatTemplateEngine, ApplyBuildsTheUsualContext) {
  auto t = ChatTemplate::parse(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->apply({{"system", "S"}, {"user", "U"}}, true, "<s>", "</s>");
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(*out, "<s>[system]S[user]U[assistant]");
}

// Templates are input: depth and length that would exhaust the stack are refused with a clear
// error (libFuzzer found "((((...": unbounded recursion). Real templates nest a few levels.
TEST(ChatTemplateEngine, DeepNestingAndHugeExpressionsAreRefused) {
  auto expect_refused = [](const std::string& src) {
    auto t = ChatTemplate::parse(src);
    ASSERT_FALSE(t) << src.substr(0, 40);
    EXPECT_EQ(t.status().code(), StatusCode::kFormat) << t.status().to_string();
  };
  expect_refused("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}");
  expect_refused("{{ " + std::string(500, '-') + "1 }}");
  std::string nots = "{{ ";
  for (int i = 0; i < 500; ++i) nots += "not ";
  expect_refused(nots + "x }}");
  std::string chain = "{{ 1";
  for (int i = 0; i < 2000; ++i) chain += " + 1";
  expect_refused(chain + " }}");
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if x %}";
  for (int i = 0; i < 300; ++i) ifs += "{% endif %}";
  expect_refused(ifs);
  // Ordinary depth still works.
  auto ok = ChatTemplate::parse("{{ ((((1 + 2)))) * -(-3) }}{% if not not x %}{% if y %}a{% endif %}{% endif %}");
  ASSERT_TRUE(ok) << ok.status().to_string();
  auto r = ok->render_json(R"({"x": true, "y": true})");
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, "9a");
}

}  // namespace
}  // namespace ember
