// A Jinja2 subset for chat templates: lexer (with Jinja's whitespace rules), recursive-descent
// parser following Jinja's operator precedence, and a tree-walking renderer with Python value
// semantics (truthiness, str(), json.dumps). Errors inside are exceptions carrying a Status; the
// public functions turn them into Results.
#include "ember/tokenizer/chat_template.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <new>
#include <nlohmann/json.hpp>

namespace ember {
namespace {

using Json = nlohmann::ordered_json;

struct TemplateError {
  Status status;
};
[[noreturn]] void fail_unsupported(const std::string& what) {
  throw TemplateError{unsupported("chat template uses " + what + ", which Ember's template engine does not support")};
}
[[noreturn]] void fail_syntax(const std::string& what) { throw TemplateError{format_error("chat template: " + what)}; }
[[noreturn]] void fail_runtime(const std::string& what) { throw TemplateError{invalid_argument("chat template: " + what)}; }
// A template (it comes from a model file) that would run too long or grow too large: a broken
// file, named by the limit it crossed.
[[noreturn]] void fail_limit(const std::string& what) {
  throw TemplateError{format_error("chat template stopped: " + what)};
}

// ---- values ---------------------------------------------------------------------------------------

struct Value {
  enum class Kind { kUndefined, kData, kNamespace, kFunction, kMethod, kMacro };
  Kind kind = Kind::kUndefined;
  Json data;
  std::shared_ptr<Json> ns;                // namespace(): a mutable object shared by reference
  std::string name;                        // function or method name
  std::shared_ptr<Value> self;             // method receiver
  const void* macro = nullptr;             // kMacro: the defining Node

  static Value of(Json j) {
    Value v;
    v.kind = Kind::kData;
    v.data = std::move(j);
    return v;
  }
  bool undefined() const { return kind == Kind::kUndefined; }
  // The JSON view of data and namespaces (what filters and operators work on).
  const Json& json() const {
    static const Json kNull;
    if (kind == Kind::kData) return data;
    if (kind == Kind::kNamespace) return *ns;
    return kNull;
  }
};

bool truthy(const Value& v) {
  if (v.kind == Value::Kind::kUndefined) return false;
  if (v.kind != Value::Kind::kData) return true;
  const Json& j = v.data;
  switch (j.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return j.get<bool>();
    case Json::value_t::number_integer: case Json::value_t::number_unsigned: return j.get<int64_t>() != 0;
    case Json::value_t::number_float: return j.get<double>() != 0.0;
    case Json::value_t::string: return !j.get_ref<const std::string&>().empty();
    case Json::value_t::array: case Json::value_t::object: return !j.empty();
    default: return true;
  }
}

// Python's repr of a float (shortest round-trip digits, always with a '.' or exponent).
std::string py_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof(buf), "%.*g", prec, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_repr(const Json& j);

// Python's str(): what {{ x }} prints.
std::string py_str(const Value& v) {
  if (v.kind == Value::Kind::kUndefined) return "";
  if (v.kind == Value::Kind::kNamespace) return "<Namespace>";
  if (v.kind != Value::Kind::kData) return "<function " + v.name + ">";
  const Json& j = v.data;
  if (j.is_string()) return j.get<std::string>();
  return py_repr(j);
}

std::string py_quote(const std::string& s) {
  const char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + q;
}

std::string py_repr(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return j.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer: return std::to_string(j.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(j.get<uint64_t>());
    case Json::value_t::number_float: return py_float(j.get<double>());
    case Json::value_t::string: return py_quote(j.get<std::string>());
    case Json::value_t::array: {
      std::string s = "[";
      for (size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + py_repr(j[i]);
      return s + "]";
    }
    case Json::value_t::object: {
      std::string s = "{";
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        s += (first ? "" : ", ") + py_quote(it.key()) + ": " + py_repr(it.value());
        first = false;
      }
      return s + "}";
    }
    default: return "";
  }
}

// Python's json.dumps(x, ensure_ascii=False, indent=indent) — transformers' tojson.
void json_dumps(const Json& j, int indent, int depth, std::string& out) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(size_t(indent * d), ' ');
  };
  switch (j.type()) {
    case Json::value_t::array:
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(depth + 1);
        json_dumps(j[i], indent, depth + 1, out);
      }
      if (indent >= 0) newline(depth);
      out += ']';
      return;
    case Json::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(depth + 1);
        out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace);
        out += ": ";
        json_dumps(it.value(), indent, depth + 1, out);
      }
      if (indent >= 0) newline(depth);
      out += '}';
      return;
    }
    case Json::value_t::number_float: out += py_float(j.get<double>()) == "nan" ? "NaN" : py_float(j.get<double>()); return;
    default: out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

// ---- lexer ------------------------------------------------------------------------------------------

struct Piece {
  enum class Kind { kText, kOutput, kBlock } kind;
  std::string content;
};

// Splits the source into text, {{ }} and {% %} pieces, applying Jinja's whitespace rules with
// trim_blocks and lstrip_blocks on, as transformers configures Jinja:
//  - "{%-" / "{{-" / "{#-" strip all whitespace before the tag, "-%}" etc. all whitespace after;
//  - trim_blocks: the first newline after a block or comment tag goes;
//  - lstrip_blocks: spaces and tabs from the start of a line up to a block or comment tag go.
std::vector<Piece> lex(std::string_view src) {
  std::vector<Piece> out;
  size_t pos = 0;
  bool strip_next_ws = false, trim_next_newline = false;
  while (pos <= src.size()) {
    size_t open = src.find('{', pos);
    while (open != std::string_view::npos &&
           (open + 1 >= src.size() || (src[open + 1] != '{' && src[open + 1] != '%' && src[open + 1] != '#')))
      open = src.find('{', open + 1);
    const std::string_view orig = src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
    size_t begin = 0, end = orig.size();
    if (strip_next_ws) {
      while (begin < end && std::isspace(uint8_t(orig[begin]))) ++begin;
    } else if (trim_next_newline && !orig.empty() && orig[0] == '\n') {
      begin = 1;
    }
    strip_next_ws = trim_next_newline = false;
    if (open != std::string_view::npos) {
      const char kind = src[open + 1];
      const char mod = open + 2 < src.size() ? src[open + 2] : 0;
      if (mod == '-') {
        while (end > begin && std::isspace(uint8_t(orig[end - 1]))) --end;
      } else if ((kind == '%' || kind == '#') && mod != '+') {
        const size_t nl = orig.find_last_of('\n');
        if (nl != std::string_view::npos || pos == 0) {
          const size_t line_start = nl == std::string_view::npos ? 0 : nl + 1;
          if (orig.find_first_not_of(" \t", line_start) == std::string_view::npos) end = std::max(begin, line_start);
        }
      }
    }
    if (end > begin) out.push_back({Piece::Kind::kText, std::string(orig.substr(begin, end - begin))});
    if (open == std::string_view::npos) break;
    const char kind = src[open + 1];
    const bool modifier = open + 2 < src.size() && (src[open + 2] == '-' || src[open + 2] == '+');
    const std::string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    const size_t body = open + 2 + (modifier ? 1 : 0);
    const size_t close_at = src.find(close, body);
    if (close_at == std::string_view::npos) fail_syntax("unclosed '{" + std::string(1, kind) + "'");
    const bool minus_after = close_at > body && src[close_at - 1] == '-';
    std::string content(src.substr(body, close_at - body - (minus_after ? 1 : 0)));
    if (kind == '{') out.push_back({Piece::Kind::kOutput, content});
    if (kind == '%') out.push_back({Piece::Kind::kBlock, content});
    strip_next_ws = minus_after;
    trim_next_newline = !minus_after && kind != '{';
    pos = close_at + 2;
  }
  return out;
}

// ---- expressions -----------------------------------------------------------------------------------

struct Tok {
  enum class Kind { kName, kString, kInt, kFloat, kOp, kEnd } kind;
  std::string text;
};

std::vector<Tok> tokenize_expr(const std::string& s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(uint8_t(c))) {
      ++i;
      continue;
    }
    if (std::isalpha(uint8_t(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(uint8_t(s[j])) || s[j] == '_')) ++j;
      out.push_back({Tok::Kind::kName, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (std::isdigit(uint8_t(c))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(uint8_t(s[j])) || s[j] == '_' || (s[j] == '.' && j + 1 < s.size() && std::isdigit(uint8_t(s[j + 1]))))) {
        if (s[j] == '.') is_float = true;
        ++j;
      }
      out.push_back({is_float ? Tok::Kind::kFloat : Tok::Kind::kInt, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string v;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          const char e = s[++j];
          switch (e) {
            case 'n': v += '\n'; break;
            case 't': v += '\t'; break;
            case 'r': v += '\r'; break;
            case '\\': v += '\\'; break;
            case '\'': v += '\''; break;
            case '"': v += '"'; break;
            default: v += '\\'; v += e;
          }
        } else {
          v += s[j];
        }
      }
      if (j >= s.size()) fail_syntax("unterminated string literal");
      out.push_back({Tok::Kind::kString, v});
      i = j + 1;
      continue;
    }
    static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ".", ",",
                                       ":",  "|",  "~",  "+",  "-",  "*",  "/", "%", "<", ">", "="};
    bool matched = false;
    for (const char* op : kOps) {
      const size_t n = std::strlen(op);
      if (s.compare(i, n, op) == 0) {
        out.push_back({Tok::Kind::kOp, op});
        i += n;
        matched = true;
        break;
      }
    }
    if (!matched) fail_syntax(std::string("unexpected character '") + c + "' in expression");
  }
  out.push_back({Tok::Kind::kEnd, ""});
  return out;
}

struct Expr;
using ExprP = std::shared_ptr<Expr>;
struct Expr {
  enum class Kind { kLit, kName, kAttr, kIndex, kSlice, kCall, kFilter, kTest, kNot, kNeg, kBinary, kCond, kList, kDict };
  explicit Expr(Kind k) : kind(k) {}
  Kind kind;
  Json lit;
  std::string name;  // name, attribute, operator, filter/test name
  ExprP a, b, c;     // operands (kSlice: a[b:c]; kCond: b if a else c)
  std::vector<ExprP> args;
  std::vector<std::pair<std::string, ExprP>> kwargs;
  bool negate = false;  // "is not", "not in"
  ExprP step;           // kSlice: a[b:c:step]
};

// Templates are input: nesting and length are bounded so that parsing and rendering (both
// recursive) cannot exhaust the stack. Real templates stay far below these.
constexpr int kMaxNesting = 100;        // parentheses, unary operators, blocks inside blocks
constexpr size_t kMaxExprTokens = 1024;  // a left-deep chain a+b+c+... is as deep as it is long

// Counts one level of recursion for as long as it lives.
class NestingGuard {
 public:
  explicit NestingGuard(int& depth) : depth_(depth) {
    if (++depth_ > kMaxNesting) {
      --depth_;
      fail_syntax("nesting deeper than " + std::to_string(kMaxNesting) + " levels");
    }
  }
  ~NestingGuard() { --depth_; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;

 private:
  int& depth_;
};

class ExprParser {
 public:
  explicit ExprParser(std::vector<Tok> toks) : t_(std::move(toks)) {
    if (t_.size() > kMaxExprTokens)
      fail_syntax("an expression of " + std::to_string(t_.size()) + " tokens (at most " + std::to_string(kMaxExprTokens) + ")");
  }
  bool at_end() const { return t_[i_].kind == Tok::Kind::kEnd; }
  const Tok& peek() const { return t_[i_]; }
  bool is_op(const char* op) const { return t_[i_].kind == Tok::Kind::kOp && t_[i_].text == op; }
  bool is_name(const char* n) const { return t_[i_].kind == Tok::Kind::kName && t_[i_].text == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail_syntax(std::string("expected '") + op + "' but found '" + t_[i_].text + "'");
    ++i_;
  }
  std::string expect_name() {
    if (t_[i_].kind != Tok::Kind::kName) fail_syntax("expected a name but found '" + t_[i_].text + "'");
    return t_[i_++].text;
  }
  void expect_end() {
    if (!at_end()) fail_syntax("unexpected '" + t_[i_].text + "'");
  }

  ExprP expression() {  // x if c else y
    const NestingGuard guard(depth_);
    ExprP e = or_expr();
    if (is_name("if")) {
      ++i_;
      auto cond = std::make_shared<Expr>(Expr::Kind::kCond);
      cond->a = or_expr();
      cond->b = e;
      if (is_name("else")) {
        ++i_;
        cond->c = expression();
      }
      return cond;
    }
    return e;
  }

 private:
  int depth_ = 0;
  ExprP binary(const std::string& op, ExprP l, ExprP r) {
    auto e = std::make_shared<Expr>(Expr::Kind::kBinary);
    e->name = op;
    e->a = std::move(l);
    e->b = std::move(r);
    return e;
  }
  ExprP or_expr() {
    ExprP l = and_expr();
    while (is_name("or")) {
      ++i_;
      l = binary("or", l, and_expr());
    }
    return l;
  }
  ExprP and_expr() {
    ExprP l = not_expr();
    while (is_name("and")) {
      ++i_;
      l = binary("and", l, not_expr());
    }
    return l;
  }
  ExprP not_expr() {
    const NestingGuard guard(depth_);
    if (is_name("not")) {
      ++i_;
      auto e = std::make_shared<Expr>(Expr::Kind::kNot);
      e->a = not_expr();
      return e;
    }
    return compare();
  }
  ExprP compare() {
    ExprP l = concat();
    for (;;) {
      if (t_[i_].kind == Tok::Kind::kOp &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">="))) {
        const std::string op = t_[i_++].text;
        l = binary(op, l, concat());
      } else if (is_name("in")) {
        ++i_;
        l = binary("in", l, concat());
      } else if (is_name("not") && t_[i_ + 1].kind == Tok::Kind::kName && t_[i_ + 1].text == "in") {
        i_ += 2;
        l = binary("in", l, concat());
        l->negate = true;
      } else {
        return l;
      }
    }
  }
  ExprP concat() {
    ExprP l = math1();
    while (is_op("~")) {
      ++i_;
      l = binary("~", l, math1());
    }
    return l;
  }
  ExprP math1() {
    ExprP l = math2();
    while (is_op("+") || is_op("-")) {
      const std::string op = t_[i_++].text;
      l = binary(op, l, math2());
    }
    return l;
  }
  ExprP math2() {
    ExprP l = power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = t_[i_++].text;
      l = binary(op, l, power());
    }
    return l;
  }
  ExprP power() {
    ExprP l = unary();
    while (is_op("**")) {
      ++i_;
      l = binary("**", l, unary());
    }
    return l;
  }
  ExprP unary() {
    const NestingGuard guard(depth_);
    if (is_op("-")) {
      ++i_;
      auto e = std::make_shared<Expr>(Expr::Kind::kNeg);
      e->a = unary();
      return e;
    }
    if (is_op("+")) {
      ++i_;
      return unary();
    }
    return filters(postfix(primary()));
  }
  void call_args(Expr& e) {
    expect_op("(");
    while (!is_op(")")) {
      if (t_[i_].kind == Tok::Kind::kName && t_[i_ + 1].kind == Tok::Kind::kOp && t_[i_ + 1].text == "=") {
        const std::string k = t_[i_].text;
        i_ += 2;
        e.kwargs.emplace_back(k, expression());
      } else {
        e.args.push_back(expression());
      }
      if (!is_op(",")) break;
      ++i_;
    }
    expect_op(")");
  }
  ExprP filters(ExprP e) {
    for (;;) {
      if (is_op("|")) {
        ++i_;
        auto f = std::make_shared<Expr>(Expr::Kind::kFilter);
        f->name = expect_name();
        f->a = e;
        if (is_op("(")) call_args(*f);
        e = f;
      } else if (is_name("is")) {
        ++i_;
        auto t = std::make_shared<Expr>(Expr::Kind::kTest);
        if (is_name("not")) {
          ++i_;
          t->negate = true;
        }
        t->name = expect_name();
        t->a = e;
        if (is_op("(")) {
          call_args(*t);
        } else if (t_[i_].kind == Tok::Kind::kString || t_[i_].kind == Tok::Kind::kInt ||
                   (t_[i_].kind == Tok::Kind::kName && !is_name("and") && !is_name("or") && !is_name("else") &&
                    !is_name("if") && !is_name("in") && !is_name("is") && !is_name("not"))) {
          t->args.push_back(primary());  // "is equalto 3", "is sameas none"
        }
        e = t;
      } else {
        return e;
      }
    }
  }
  ExprP postfix(ExprP e) {
    for (;;) {
      if (is_op(".")) {
        ++i_;
        auto a = std::make_shared<Expr>(Expr::Kind::kAttr);
        a->name = expect_name();
        a->a = e;
        e = a;
      } else if (is_op("[")) {
        ++i_;
        ExprP lo, hi, step;
        bool slice = false;
        if (!is_op(":")) lo = expression();
        if (is_op(":")) {
          slice = true;
          ++i_;
          if (!is_op("]") && !is_op(":")) hi = expression();
          if (is_op(":")) {
            ++i_;
            if (!is_op("]")) step = expression();
          }
        }
        expect_op("]");
        auto x = std::make_shared<Expr>(slice ? Expr::Kind::kSlice : Expr::Kind::kIndex);
        x->a = e;
        x->b = lo;
        x->c = hi;
        x->step = step;
        e = x;
      } else if (is_op("(")) {
        auto call = std::make_shared<Expr>(Expr::Kind::kCall);
        call->a = e;
        call_args(*call);
        e = call;
      } else {
        return e;
      }
    }
  }
  ExprP primary() {
    const Tok t = t_[i_];
    auto lit = [&](Json j) {
      ++i_;
      auto e = std::make_shared<Expr>(Expr::Kind::kLit);
      e->lit = std::move(j);
      return e;
    };
    switch (t.kind) {
      case Tok::Kind::kString: {
        std::string s = t.text;
        ++i_;
        while (t_[i_].kind == Tok::Kind::kString) s += t_[i_++].text;  // adjacent literals join
        auto e = std::make_shared<Expr>(Expr::Kind::kLit);
        e->lit = s;
        return e;
      }
      case Tok::Kind::kInt: return lit(Json(std::stoll(t.text)));
      case Tok::Kind::kFloat: return lit(Json(std::stod(t.text)));
      case Tok::Kind::kName:
        if (t.text == "true" || t.text == "True") return lit(Json(true));
        if (t.text == "false" || t.text == "False") return lit(Json(false));
        if (t.text == "none" || t.text == "None") return lit(Json(nullptr));
        {
          ++i_;
          auto e = std::make_shared<Expr>(Expr::Kind::kName);
          e->name = t.text;
          return e;
        }
      case Tok::Kind::kOp:
        if (t.text == "(") {
          ++i_;
          ExprP e = expression();
          if (is_op(",")) fail_unsupported("tuples");
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          ++i_;
          auto e = std::make_shared<Expr>(Expr::Kind::kList);
          while (!is_op("]")) {
            e->args.push_back(expression());
            if (!is_op(",")) break;
            ++i_;
          }
          expect_op("]");
          return e;
        }
        if (t.text == "{") {
          ++i_;
          auto e = std::make_shared<Expr>(Expr::Kind::kDict);
          while (!is_op("}")) {
            ExprP k = expression();
            expect_op(":");
            e->args.push_back(k);
            e->args.push_back(expression());
            if (!is_op(",")) break;
            ++i_;
          }
          expect_op("}");
          return e;
        }
        break;
      default: break;
    }
    fail_syntax("unexpected '" + t.text + "' in expression");
  }

  std::vector<Tok> t_;
  size_t i_ = 0;
};

// ---- statements -------------------------------------------------------------------------------------

struct Node;
using Body = std::vector<Node>;
struct Node {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kMacro };
  explicit Node(Kind k, std::string t = {}) : kind(k), text(std::move(t)) {}
  Kind kind;
  std::string text;
  ExprP expr;                                   // output; for: iterable; set: value
  std::vector<std::pair<ExprP, Body>> branches;  // if/elif/else (else: null condition)
  std::vector<std::string> vars;                // for targets; set: {name} or {ns, attr}
  Body body, else_body;                         // for
  ExprP filter;                                 // for ... if cond
  std::vector<ExprP> defaults;                  // macro: default per parameter (or null)
};

class Parser {
 public:
  explicit Parser(std::vector<Piece> p) : p_(std::move(p)) {}
  Body parse_all() {
    Body b = parse_until({});
    if (i_ < p_.size()) fail_syntax("unexpected '{% " + p_[i_].content + " %}'");
    return b;
  }

 private:
  int depth_ = 0;
  static std::string keyword(const std::string& block) {
    size_t s = block.find_first_not_of(" \t\r\n");
    if (s == std::string::npos) return "";
    size_t e = s;
    while (e < block.size() && (std::isalnum(uint8_t(block[e])) || block[e] == '_')) ++e;
    return block.substr(s, e - s);
  }
  static std::string rest(const std::string& block) {
    const std::string k = keyword(block);
    return block.substr(block.find(k) + k.size());
  }

  // Parses nodes until a block whose keyword is in `stops` (left unconsumed).
  Body parse_until(const std::vector<std::string>& stops) {
    const NestingGuard guard(depth_);
    Body out;
    while (i_ < p_.size()) {
      const Piece& pc = p_[i_];
      if (pc.kind == Piece::Kind::kText) {
        out.push_back(Node(Node::Kind::kText, pc.content));
        ++i_;
        continue;
      }
      if (pc.kind == Piece::Kind::kOutput) {
        ExprParser ep(tokenize_expr(pc.content));
        Node n(Node::Kind::kOutput);
        n.expr = ep.expression();
        ep.expect_end();
        out.push_back(std::move(n));
        ++i_;
        continue;
      }
      const std::string k = keyword(pc.content);
      for (const std::string& s : stops)
        if (k == s) return out;
      ++i_;
      if (k == "if") {
        out.push_back(parse_if(rest(pc.content)));
      } else if (k == "for") {
        out.push_back(parse_for(rest(pc.content)));
      } else if (k == "set") {
        out.push_back(parse_set(rest(pc.content)));
      } else if (k == "macro") {
        out.push_back(parse_macro(rest(pc.content)));
      } else if (k == "endif" || k == "endfor" || k == "elif" || k == "else") {
        fail_syntax("'{% " + k + " %}' without its opening block");
      } else {
        fail_unsupported("'{% " + k + " %}'");
      }
    }
    if (!stops.empty()) fail_syntax("missing '{% " + stops.back() + " %}'");
    return out;
  }

  ExprP expr_of(const std::string& s) {
    ExprParser ep(tokenize_expr(s));
    ExprP e = ep.expression();
    ep.expect_end();
    return e;
  }

  Node parse_if(const std::string& cond) {
    Node n(Node::Kind::kIf);
    ExprP c = expr_of(cond);
    for (;;) {
      Body b = parse_until({"elif", "else", "endif"});
      n.branches.emplace_back(c, std::move(b));
      const std::string k = keyword(p_[i_].content);
      const std::string r = rest(p_[i_].content);
      ++i_;
      if (k == "endif") return n;
      if (k == "elif") {
        c = expr_of(r);
        continue;
      }
      Body e = parse_until({"endif"});
      ++i_;
      n.branches.emplace_back(nullptr, std::move(e));
      return n;
    }
  }

  Node parse_for(const std::string& spec) {
    Node n(Node::Kind::kFor);
    ExprParser ep(tokenize_expr(spec));
    n.vars.push_back(ep.expect_name());
    while (ep.is_op(",")) {
      ep.expect_op(",");
      n.vars.push_back(ep.expect_name());
    }
    if (!ep.is_name("in")) fail_syntax("expected 'in' in for loop");
    ep.expect_name();
    // The iterable ends before a trailing "if" filter or "recursive".
    n.expr = ep.expression();
    if (ep.is_name("recursive")) fail_unsupported("recursive for loops");
    ep.expect_end();
    if (n.expr->kind == Expr::Kind::kCond && !n.expr->c) {  // "for x in xs if cond"
      n.filter = n.expr->a;
      n.expr = n.expr->b;
    }
    n.body = parse_until({"else", "endfor"});
    if (keyword(p_[i_].content) == "else") {
      ++i_;
      n.else_body = parse_until({"endfor"});
    }
    ++i_;
    return n;
  }

  Node parse_macro(const std::string& spec) {
    Node n(Node::Kind::kMacro);
    ExprParser ep(tokenize_expr(spec));
    n.text = ep.expect_name();
    ep.expect_op("(");
    while (!ep.is_op(")")) {
      n.vars.push_back(ep.expect_name());
      ExprP dflt;
      if (ep.is_op("=")) {
        ep.expect_op("=");
        dflt = ep.expression();
      }
      n.defaults.push_back(dflt);
      if (!ep.is_op(",")) break;
      ep.expect_op(",");
    }
    ep.expect_op(")");
    ep.expect_end();
    n.body = parse_until({"endmacro"});
    ++i_;
    return n;
  }

  Node parse_set(const std::string& spec) {
    Node n(Node::Kind::kSet);
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) fail_unsupported("block '{% set %}' (set ... endset)");
    ExprParser target(tokenize_expr(spec.substr(0, eq)));
    n.vars.push_back(target.expect_name());
    if (target.is_op(".")) {
      target.expect_op(".");
      n.vars.push_back(target.expect_name());
    }
    if (target.is_op(",")) fail_unsupported("tuple assignment in set");
    target.expect_end();
    n.expr = expr_of(spec.substr(eq + 1));
    return n;
  }

  std::vector<Piece> p_;
  size_t i_ = 0;
};

// ---- rendering -------------------------------------------------------------------------------------

// Bounds that keep a hostile template (it comes from a model file) from exhausting the host.
constexpr size_t kMaxItems = 1000000;  // range() length, list length; strings up to 16x this
constexpr size_t kMaxDepth = 64;       // nested macro calls
// Nodes rendered plus expressions evaluated: a chat of thousands of messages takes a few hundred
// thousand; three nested range(1000) loops would take a billion (about a second per million here).
constexpr uint64_t kMaxSteps = 1000000;
constexpr size_t kMaxOutputBytes = 16 * kMaxItems;  // the rendered prompt

class Renderer {
 public:
  explicit Renderer(Json ctx) { frames_.push_back({}), globals_ = std::move(ctx); }

  void render(const Body& body, std::string& out) {
    for (const Node& n : body) render(n, out);
  }

 private:
  using Frame = std::map<std::string, Value>;

  Value lookup(const std::string& name) {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    if (globals_.is_object() && globals_.contains(name)) return Value::of(globals_[name]);
    static const char* const kFunctions[] = {"raise_exception", "namespace", "range", "strftime_now", "dict"};
    for (const char* f : kFunctions)
      if (name == f) {
        Value v;
        v.kind = Value::Kind::kFunction;
        v.name = name;
        return v;
      }
    return Value();
  }

  void step() {
    if (++steps_ > kMaxSteps) fail_limit("more than " + std::to_string(kMaxSteps) + " steps (loops that never end?)");
  }

  static void emit(std::string& out, const std::string& text) {
    if (text.size() > kMaxOutputBytes - std::min(out.size(), kMaxOutputBytes))
      fail_limit("output longer than " + std::to_string(kMaxOutputBytes) + " bytes");
    out += text;
  }

  void render(const Node& n, std::string& out) {
    step();
    switch (n.kind) {
      case Node::Kind::kText: emit(out, n.text); return;
      case Node::Kind::kOutput: emit(out, py_str(eval(*n.expr))); return;
      case Node::Kind::kIf:
        for (const auto& [cond, body] : n.branches)
          if (!cond || truthy(eval(*cond))) {
            render(body, out);
            return;
          }
        return;
      case Node::Kind::kMacro: {
        Value m;
        m.kind = Value::Kind::kMacro;
        m.name = n.text;
        m.macro = &n;
        frames_.back()[n.text] = m;
        return;
      }
      case Node::Kind::kSet: {
        Value v = eval(*n.expr);
        if (n.vars.size() == 1) {
          frames_.back()[n.vars[0]] = v;
        } else {
          Value target = lookup(n.vars[0]);
          if (target.kind != Value::Kind::kNamespace)
            fail_runtime("cannot set attribute '" + n.vars[1] + "' of '" + n.vars[0] + "' (not a namespace)");
          (*target.ns)[n.vars[1]] = v.json();
        }
        return;
      }
      case Node::Kind::kFor: {
        const Value seq = eval(*n.expr);
        std::vector<Json> items;
        const Json& j = seq.json();
        if (j.is_array()) {
          for (const Json& x : j) items.push_back(x);
        } else if (j.is_object()) {
          for (auto it = j.begin(); it != j.end(); ++it) items.push_back(it.key());
        } else if (j.is_string()) {
          for (char c : j.get<std::string>()) items.push_back(std::string(1, c));
        } else if (!seq.undefined() && !j.is_null()) {
          fail_runtime("for loop over a value that is not iterable");
        }
        frames_.push_back({});
        std::vector<Json> kept;
        for (const Json& item : items) {
          if (n.filter) step();
          bind(n.vars, item);
          if (!n.filter || truthy(eval(*n.filter))) kept.push_back(item);
        }
        for (size_t i = 0; i < kept.size(); ++i) {
          step();  // an iteration is a step even when its body is empty
          bind(n.vars, kept[i]);
          Json loop = {{"index", i + 1},       {"index0", i},
                       {"first", i == 0},      {"last", i + 1 == kept.size()},
                       {"length", kept.size()}, {"revindex", kept.size() - i},
                       {"revindex0", kept.size() - i - 1}};
          if (i > 0) loop["previtem"] = kept[i - 1];
          if (i + 1 < kept.size()) loop["nextitem"] = kept[i + 1];
          frames_.back()["loop"] = Value::of(loop);
          render(n.body, out);
        }
        frames_.pop_back();
        if (kept.empty()) render(n.else_body, out);
        return;
      }
    }
  }

  void bind(const std::vector<std::string>& vars, const Json& item) {
    if (vars.size() == 1) {
      frames_.back()[vars[0]] = Value::of(item);
      return;
    }
    if (!item.is_array() || item.size() != vars.size()) fail_runtime("cannot unpack loop item into " + std::to_string(vars.size()) + " names");
    for (size_t k = 0; k < vars.size(); ++k) frames_.back()[vars[k]] = Value::of(item[k]);
  }

  static int64_t as_int(const Json& j, const char* what) {
    if (j.is_number_integer() || j.is_number_unsigned()) return j.get<int64_t>();
    if (j.is_boolean()) return j.get<bool>();
    fail_runtime(std::string(what) + " must be an integer");
  }

  Value eval(const Expr& e) {
    step();
    switch (e.kind) {
      case Expr::Kind::kLit: return Value::of(e.lit);
      case Expr::Kind::kName: return lookup(e.name);
      case Expr::Kind::kList: {
        Json a = Json::array();
        for (const ExprP& x : e.args) a.push_back(eval(*x).json());
        return Value::of(a);
      }
      case Expr::Kind::kDict: {
        Json o = Json::object();
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) o[py_str(eval(*e.args[k]))] = eval(*e.args[k + 1]).json();
        return Value::of(o);
      }
      case Expr::Kind::kAttr: {
        Value base = eval(*e.a);
        const Json& j = base.json();
        if (j.is_object() && j.contains(e.name)) return Value::of(j[e.name]);
        // A method only where Python has one by that name (a missing key is Undefined, not a method).
        static const char* const kStringMethods[] = {"strip", "lstrip", "rstrip", "upper", "lower", "startswith",
                                                     "endswith", "split", "replace", "title", "capitalize"};
        static const char* const kDictMethods[] = {"items", "keys", "values", "get"};
        bool is_method = false;
        if (j.is_string())
          for (const char* m : kStringMethods) is_method = is_method || e.name == m;
        if (j.is_object())
          for (const char* m : kDictMethods) is_method = is_method || e.name == m;
        if (base.kind == Value::Kind::kData && is_method) {
          Value m;
          m.kind = Value::Kind::kMethod;
          m.name = e.name;
          m.self = std::make_shared<Value>(base);
          return m;
        }
        return Value();
      }
      case Expr::Kind::kIndex: {
        Value base = eval(*e.a);
        Value key = eval(*e.b);
        const Json& j = base.json();
        if (j.is_object()) {
          const std::string k = key.json().is_string() ? key.json().get<std::string>() : py_str(key);
          return j.contains(k) ? Value::of(j[k]) : Value();
        }
        if (j.is_array() || j.is_string()) {
          int64_t i = as_int(key.json(), "index");
          const int64_t n = int64_t(j.is_array() ? j.size() : j.get<std::string>().size());
          if (i < 0) i += n;
          if (i < 0 || i >= n) return Value();
          return j.is_array() ? Value::of(j[size_t(i)]) : Value::of(std::string(1, j.get<std::string>()[size_t(i)]));
        }
        return Value();
      }
      case Expr::Kind::kSlice: {  // Python slicing, negative steps included
        Value base = eval(*e.a);
        const Json& j = base.json();
        const int64_t n = int64_t(j.is_array() ? j.size() : j.is_string() ? j.get<std::string>().size() : 0);
        const int64_t step = e.step ? as_int(eval(*e.step).json(), "slice step") : 1;
        if (step == 0) fail_runtime("slice step is zero");
        auto bound = [&](const ExprP& x, int64_t dflt) {
          if (!x) return dflt;
          int64_t v = as_int(eval(*x).json(), "slice bound");
          if (v < 0) v += n;
          return step > 0 ? std::max<int64_t>(0, std::min(n, v)) : std::max<int64_t>(-1, std::min(n - 1, v));
        };
        const int64_t lo = bound(e.b, step > 0 ? 0 : n - 1), hi = bound(e.c, step > 0 ? n : -1);
        std::vector<int64_t> idx;
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) idx.push_back(i);
        if (j.is_array()) {
          Json a = Json::array();
          for (int64_t i : idx) a.push_back(j[size_t(i)]);
          return Value::of(a);
        }
        if (j.is_string()) {
          std::string r;
          for (int64_t i : idx) r += j.get<std::string>()[size_t(i)];
          return Value::of(r);
        }
        return Value();
      }
      case Expr::Kind::kNot: return Value::of(!truthy(eval(*e.a)));
      case Expr::Kind::kNeg: {
        const Json v = eval(*e.a).json();
        if (v.is_number_integer()) return Value::of(-v.get<int64_t>());
        if (v.is_number()) return Value::of(-v.get<double>());
        fail_runtime("unary minus on a non-number");
      }
      case Expr::Kind::kCond:
        if (truthy(eval(*e.a))) return eval(*e.b);
        return e.c ? eval(*e.c) : Value();
      case Expr::Kind::kBinary: return binary(e);
      case Expr::Kind::kCall: return call(e);
      case Expr::Kind::kFilter: return filter(e);
      case Expr::Kind::kTest: {
        const bool r = test(e);
        return Value::of(e.negate ? !r : r);
      }
    }
    return Value();
  }

  static bool equal(const Value& a, const Value& b) {
    if (a.undefined() || b.undefined()) return a.undefined() && b.undefined();
    const Json &x = a.json(), &y = b.json();
    if (x.is_number() && y.is_number()) return x.get<double>() == y.get<double>();
    return x == y;
  }

  Value binary(const Expr& e) {
    if (e.name == "and") {
      Value l = eval(*e.a);
      return truthy(l) ? eval(*e.b) : l;
    }
    if (e.name == "or") {
      Value l = eval(*e.a);
      return truthy(l) ? l : eval(*e.b);
    }
    const Value l = eval(*e.a), r = eval(*e.b);
    const Json &x = l.json(), &y = r.json();
    if (e.name == "==") return Value::of(equal(l, r));
    if (e.name == "!=") return Value::of(!equal(l, r));
    if (e.name == "~") return Value::of(joined(py_str(l), py_str(r)));
    if (e.name == "in") {
      bool found = false;
      if (y.is_string()) {
        found = x.is_string() && y.get<std::string>().find(x.get<std::string>()) != std::string::npos;
      } else if (y.is_array()) {
        for (const Json& v : y) found = found || equal(l, Value::of(v));
      } else if (y.is_object()) {
        found = x.is_string() && y.contains(x.get<std::string>());
      } else if (!r.undefined()) {
        fail_runtime("'in' on a value that is not a container");
      }
      return Value::of(e.negate ? !found : found);
    }
    if (e.name == "<" || e.name == ">" || e.name == "<=" || e.name == ">=") {
      int cmp;
      if (x.is_number() && y.is_number()) {
        const double a = x.get<double>(), b = y.get<double>();
        cmp = a < b ? -1 : a > b ? 1 : 0;
      } else if (x.is_string() && y.is_string()) {
        cmp = x.get<std::string>().compare(y.get<std::string>());
      } else {
        fail_runtime("cannot compare these values with '" + e.name + "'");
      }
      const bool res = e.name == "<" ? cmp < 0 : e.name == ">" ? cmp > 0 : e.name == "<=" ? cmp <= 0 : cmp >= 0;
      return Value::of(res);
    }
    if (e.name == "+") {
      if (x.is_string() && y.is_string()) return Value::of(joined(x.get<std::string>(), y.get<std::string>()));
      if (x.is_array() && y.is_array()) {
        if (x.size() + y.size() > kMaxItems) fail_limit("a list longer than " + std::to_string(kMaxItems) + " items");
        Json a = x;
        for (const Json& v : y) a.push_back(v);
        return Value::of(a);
      }
    }
    if (x.is_number() && y.is_number()) {
      const bool ints = x.is_number_integer() && y.is_number_integer();
      const double a = x.get<double>(), b = y.get<double>();
      if (e.name == "+") return ints ? Value::of(x.get<int64_t>() + y.get<int64_t>()) : Value::of(a + b);
      if (e.name == "-") return ints ? Value::of(x.get<int64_t>() - y.get<int64_t>()) : Value::of(a - b);
      if (e.name == "*") return ints ? Value::of(x.get<int64_t>() * y.get<int64_t>()) : Value::of(a * b);
      if (b == 0 && (e.name == "/" || e.name == "//" || e.name == "%")) fail_runtime("division by zero");
      if (e.name == "/") return Value::of(a / b);
      if (e.name == "//") return ints ? Value::of(int64_t(std::floor(a / b))) : Value::of(std::floor(a / b));
      if (e.name == "%") {
        if (ints) {
          const int64_t p = x.get<int64_t>(), q = y.get<int64_t>();
          return Value::of(((p % q) + q) % q);
        }
        return Value::of(a - b * std::floor(a / b));
      }
      if (e.name == "**") return ints && y.get<int64_t>() >= 0 ? Value::of(int64_t(std::llround(std::pow(a, b)))) : Value::of(std::pow(a, b));
    }
    if (e.name == "*" && x.is_string() && y.is_number_integer()) {
      if (double(x.get<std::string>().size()) * double(y.get<int64_t>()) > double(kMaxItems) * 16)
        fail_runtime("string repetition too long");
      std::string s;
      for (int64_t k = 0; k < y.get<int64_t>(); ++k) s += x.get<std::string>();
      return Value::of(s);
    }
    fail_runtime("operator '" + e.name + "' does not apply to these values");
  }

  std::vector<Value> args_of(const Expr& e) {
    std::vector<Value> a;
    for (const ExprP& x : e.args) a.push_back(eval(*x));
    return a;
  }
  Value kwarg(const Expr& e, const std::string& name, size_t pos, const std::vector<Value>& args) {
    for (const auto& [k, x] : e.kwargs)
      if (k == name) return eval(*x);
    return pos < args.size() ? args[pos] : Value();
  }

  Value call(const Expr& e) {
    const Value f = eval(*e.a);
    std::vector<Value> args = args_of(e);
    if (f.kind == Value::Kind::kFunction) {
      if (f.name == "raise_exception")
        fail_runtime("template raised an exception: " + (args.empty() ? std::string() : py_str(args[0])));
      if (f.name == "namespace" || f.name == "dict") {
        Value ns;
        ns.kind = f.name == "namespace" ? Value::Kind::kNamespace : Value::Kind::kData;
        Json o = Json::object();
        for (const auto& [k, x] : e.kwargs) o[k] = eval(*x).json();
        if (f.name == "namespace") {
          ns.ns = std::make_shared<Json>(std::move(o));
        } else {
          ns.data = std::move(o);
        }
        return ns;
      }
      if (f.name == "range") {
        int64_t lo = 0, hi = 0, step = 1;
        if (args.size() == 1) hi = as_int(args[0].json(), "range");
        if (args.size() >= 2) lo = as_int(args[0].json(), "range"), hi = as_int(args[1].json(), "range");
        if (args.size() == 3) step = as_int(args[2].json(), "range");
        if (step == 0) fail_runtime("range() step is zero");
        Json a = Json::array();
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
          if (a.size() >= kMaxItems) fail_runtime("range() longer than " + std::to_string(kMaxItems));
          a.push_back(i);
        }
        return Value::of(a);
      }
      if (f.name == "strftime_now") {
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        char buf[128];
        const std::string fmt = args.empty() ? "%Y-%m-%d" : py_str(args[0]);
        std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
        return Value::of(std::string(buf));
      }
    }
    if (f.kind == Value::Kind::kMethod) return method(*f.self, f.name, args, e);
    if (f.kind == Value::Kind::kMacro) {  // renders its body with the parameters bound
      const Node& m = *static_cast<const Node*>(f.macro);
      if (frames_.size() > kMaxDepth) fail_runtime("macro calls nest deeper than " + std::to_string(kMaxDepth));
      frames_.push_back({});
      for (size_t k = 0; k < m.vars.size(); ++k) {
        Value v = k < args.size() ? args[k] : Value();
        for (const auto& [name, x] : e.kwargs)
          if (name == m.vars[k]) v = eval(*x);
        if (v.undefined() && m.defaults[k]) v = eval(*m.defaults[k]);
        frames_.back()[m.vars[k]] = v;
      }
      std::string out;
      render(m.body, out);
      frames_.pop_back();
      return Value::of(out);
    }
    fail_runtime("call of something that is not a function");
  }

  static std::string strip_chars(const std::string& s, const std::string& chars, bool left, bool right) {
    size_t b = 0, e = s.size();
    if (left)
      while (b < e && chars.find(s[b]) != std::string::npos) ++b;
    if (right)
      while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
    return s.substr(b, e - b);
  }

  Value method(const Value& self, const std::string& name, const std::vector<Value>& args, const Expr& e) {
    const Json& j = self.json();
    const std::string ws = " \t\n\r\f\v";
    if (j.is_string()) {
      const std::string s = j.get<std::string>();
      const std::string chars = args.empty() || args[0].json().is_null() ? ws : py_str(args[0]);
      if (name == "strip") return Value::of(strip_chars(s, chars, true, true));
      if (name == "lstrip") return Value::of(strip_chars(s, chars, true, false));
      if (name == "rstrip") return Value::of(strip_chars(s, chars, false, true));
      if (name == "upper" || name == "lower") {
        std::string r = s;
        for (char& c : r) c = char(name == "upper" ? std::toupper(uint8_t(c)) : std::tolower(uint8_t(c)));
        return Value::of(r);
      }
      if (name == "startswith" || name == "endswith") {
        if (args.empty()) fail_runtime(name + "() needs an argument");
        const std::string p = py_str(args[0]);
        const bool r = name == "startswith" ? s.rfind(p, 0) == 0 : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
        return Value::of(r);
      }
      if (name == "split") {
        Json a = Json::array();
        if (args.empty() || args[0].json().is_null()) {
          size_t i = 0;
          while (i < s.size()) {
            while (i < s.size() && ws.find(s[i]) != std::string::npos) ++i;
            size_t k = i;
            while (k < s.size() && ws.find(s[k]) == std::string::npos) ++k;
            if (k > i) a.push_back(s.substr(i, k - i));
            i = k;
          }
        } else {
          const std::string sep = py_str(args[0]);
          if (sep.empty()) fail_runtime("split() with an empty separator");
          size_t i = 0;
          for (size_t k; (k = s.find(sep, i)) != std::string::npos; i = k + sep.size()) a.push_back(s.substr(i, k - i));
          a.push_back(s.substr(i));
        }
        return Value::of(a);
      }
      if (name == "replace") {
        if (args.size() < 2) fail_runtime("replace() needs two arguments");
        const std::string from = py_str(args[0]), to = py_str(args[1]);
        if (from.empty()) return Value::of(s);
        std::string r;
        size_t i = 0;
        for (size_t k; (k = s.find(from, i)) != std::string::npos; i = k + from.size()) r += s.substr(i, k - i) + to;
        return Value::of(r + s.substr(i));
      }
      if (name == "title" || name == "capitalize") {
        std::string r = s;
        bool start = true;
        for (char& c : r) {
          c = char(start ? std::toupper(uint8_t(c)) : (name == "capitalize" ? std::tolower(uint8_t(c)) : c));
          start = name == "title" ? !std::isalpha(uint8_t(c)) : false;
        }
        return Value::of(r);
      }
    }
    if (j.is_object()) {
      if (name == "items") {
        Json a = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) a.push_back(Json::array({it.key(), it.value()}));
        return Value::of(a);
      }
      if (name == "keys" || name == "values") {
        Json a = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) a.push_back(name == "keys" ? Json(it.key()) : it.value());
        return Value::of(a);
      }
      if (name == "get") {
        if (args.empty()) fail_runtime("get() needs a key");
        const std::string k = py_str(args[0]);
        if (j.contains(k)) return Value::of(j[k]);
        return args.size() > 1 ? args[1] : Value::of(nullptr);
      }
    }
    (void)e;
    fail_unsupported("the method '" + name + "()'");
  }

  Value filter(const Expr& e) {
    const Value v = eval(*e.a);
    const std::vector<Value> args = args_of(e);
    const Json& j = v.json();
    const std::string& f = e.name;
    if (f == "safe" || f == "e" || f == "escape") {
      if (f != "safe") fail_unsupported("the filter 'escape'");
      return v;
    }
    if (f == "trim") return Value::of(strip_chars(py_str(v), " \t\n\r\f\v", true, true));
    if (f == "length" || f == "count") {
      if (j.is_string()) {  // Python counts code points, not bytes
        int64_t n = 0;
        for (char c : j.get<std::string>()) n += (uint8_t(c) & 0xC0) != 0x80;
        return Value::of(n);
      }
      if (j.is_array() || j.is_object()) return Value::of(int64_t(j.size()));
      fail_runtime("length of a value without one");
    }
    if (f == "tojson") {
      const Value ind = kwarg(e, "indent", 0, args);
      std::string out;
      json_dumps(j, ind.json().is_number() ? int(ind.json().get<int64_t>()) : -1, 0, out);
      return Value::of(out);
    }
    if (f == "string") return Value::of(py_str(v));
    if (f == "upper" || f == "lower" || f == "capitalize" || f == "title")
      return method(Value::of(py_str(v)), f, {}, e);
    if (f == "replace") return method(Value::of(py_str(v)), "replace", args, e);
    if (f == "int") {
      if (j.is_number()) return Value::of(int64_t(j.get<double>()));
      if (j.is_string()) {
        try {
          return Value::of(int64_t(std::stoll(j.get<std::string>())));
        } catch (...) {
          return Value::of(int64_t(0));
        }
      }
      return Value::of(int64_t(0));
    }
    if (f == "default" || f == "d") {
      const bool boolean = args.size() > 1 && truthy(args[1]);
      if (v.undefined() || (boolean && !truthy(v))) return args.empty() ? Value::of("") : args[0];
      return v;
    }
    if (f == "first" || f == "last") {
      if (j.is_array()) return j.empty() ? Value() : Value::of(f == "first" ? j.front() : j.back());
      if (j.is_string()) {
        const std::string s = j.get<std::string>();
        return s.empty() ? Value() : Value::of(std::string(1, f == "first" ? s.front() : s.back()));
      }
      fail_runtime(f + " of a value that is not a sequence");
    }
    if (f == "join") {
      const std::string sep = args.empty() ? "" : py_str(args[0]);
      std::string out;
      if (j.is_array())
        for (size_t i = 0; i < j.size(); ++i) out += (i ? sep : "") + py_str(Value::of(j[i]));
      return Value::of(out);
    }
    if (f == "list") {
      if (j.is_array()) return v;
      Json a = Json::array();
      if (j.is_string())
        for (char c : j.get<std::string>()) a.push_back(std::string(1, c));
      if (j.is_object())
        for (auto it = j.begin(); it != j.end(); ++it) a.push_back(it.key());
      return Value::of(a);
    }
    if (f == "items") return method(v, "items", {}, e);
    if (f == "select" || f == "reject") {
      if (args.empty()) fail_unsupported("'" + f + "' without a test name");
      const std::string test_name = py_str(args[0]);
      Json a = Json::array();
      for (const Json& x : j.is_array() ? j : Json::array()) {
        const bool r = apply_test(test_name, Value::of(x), std::vector<Value>(args.begin() + 1, args.end()));
        if (r == (f == "select")) a.push_back(x);
      }
      return Value::of(a);
    }
    if (f == "map") {
      const Value attr = kwarg(e, "attribute", 99, args);
      if (attr.undefined()) fail_unsupported("'map' without attribute=");
      Json a = Json::array();
      for (const Json& x : j.is_array() ? j : Json::array()) {
        const std::string k = py_str(attr);
        a.push_back(x.is_object() && x.contains(k) ? x[k] : Json());
      }
      return Value::of(a);
    }
    fail_unsupported("the filter '" + f + "'");
  }

  bool test(const Expr& e) { return apply_test(e.name, eval(*e.a), args_of(e)); }

  static bool apply_test(const std::string& t, const Value& v, const std::vector<Value>& args) {
    const Json& j = v.json();
    if (t == "defined") return !v.undefined();
    if (t == "undefined") return v.undefined();
    if (t == "none") return !v.undefined() && v.kind == Value::Kind::kData && j.is_null();
    if (t == "string") return v.kind == Value::Kind::kData && j.is_string();
    if (t == "number") return v.kind == Value::Kind::kData && j.is_number();
    if (t == "integer") return v.kind == Value::Kind::kData && j.is_number_integer();
    if (t == "float") return v.kind == Value::Kind::kData && j.is_number_float();
    if (t == "boolean") return v.kind == Value::Kind::kData && j.is_boolean();
    if (t == "true") return v.kind == Value::Kind::kData && j.is_boolean() && j.get<bool>();
    if (t == "false") return v.kind == Value::Kind::kData && j.is_boolean() && !j.get<bool>();
    if (t == "mapping") return v.kind == Value::Kind::kNamespace || (v.kind == Value::Kind::kData && j.is_object());
    if (t == "iterable" || t == "sequence") return v.kind == Value::Kind::kData && (j.is_array() || j.is_object() || j.is_string());
    if (t == "callable") return v.kind == Value::Kind::kFunction || v.kind == Value::Kind::kMethod;
    if (t == "equalto" || t == "eq" || t == "==" || t == "sameas") return !args.empty() && equal(v, args[0]);
    if (t == "odd" || t == "even") {
      if (!j.is_number_integer()) return false;
      return (j.get<int64_t>() % 2 != 0) == (t == "odd");
    }
    fail_unsupported("the test 'is " + t + "'");
  }

  // Two strings joined, within the bound on a string's length.
  static std::string joined(const std::string& a, const std::string& b) {
    if (a.size() + b.size() > kMaxOutputBytes) fail_limit("a string longer than " + std::to_string(kMaxOutputBytes) + " bytes");
    return a + b;
  }

  Json globals_;
  std::vector<Frame> frames_;
  uint64_t steps_ = 0;
};

}  // namespace

struct ChatTemplate::Impl {
  Body body;
};

ChatTemplate::ChatTemplate() : impl_(std::make_unique<Impl>()) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  try {
    ChatTemplate t;
    t.impl_->body = Parser(lex(source)).parse_all();
    return t;
  } catch (const TemplateError& e) {
    return e.status;
  } catch (const std::exception& e) {
    return format_error(std::string("chat template: ") + e.what());
  }
}

Result<std::string> ChatTemplate::render_json(std::string_view context_json) const {
  try {
    Json ctx = Json::parse(context_json, nullptr, /*allow_exceptions=*/false);
    if (ctx.is_discarded() || !ctx.is_object()) return invalid_argument("chat template context is not a JSON object");
    Renderer r(std::move(ctx));
    std::string out;
    r.render(impl_->body, out);
    return out;
  } catch (const TemplateError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return out_of_memory("chat template: out of memory");
  } catch (const std::exception& e) {
    return internal_error(std::string("chat template: ") + e.what());
  }
}

Result<std::string> ChatTemplate::apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                        const std::string& bos_token, const std::string& eos_token) const {
  Json ctx = Json::object();
  ctx["messages"] = Json::array();
  for (const ChatMessage& m : messages) ctx["messages"].push_back({{"role", m.role}, {"content", m.content}});
  ctx["add_generation_prompt"] = add_generation_prompt;
  ctx["bos_token"] = bos_token;
  ctx["eos_token"] = eos_token;
  return render_json(ctx.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace ember
