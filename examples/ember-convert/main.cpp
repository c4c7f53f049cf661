// ember-convert: a llama2.c checkpoint and its tokenizer -> a GGUF file Ember (and llama.cpp) load.
// Options: kHelp below.
#include <cstdio>
#include <string>

#include "ember/formats/gguf.h"
#include "ember/formats/llama2c.h"
#include "ember/tokenizer/tokenizer.h"
#include "common/cli.h"

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-convert",
    "ember-convert CHECKPOINT.bin TOKENIZER OUTPUT.gguf [NAME]",
    "Converts a llama2.c checkpoint and its tokenizer into a GGUF file that Ember and llama.cpp load.\n"
    "\n"
    "  CHECKPOINT.bin   llama2.c's model file\n"
    "  TOKENIZER        llama2.c's tokenizer.bin, or the SentencePiece tokenizer.model it was made from\n"
    "  NAME             general.name in the file (default: the checkpoint's file name)\n"
    "  -h, --help       this help\n"};

}  // namespace

int main(int argc, char** argv) {
  ember_cli::handle_help(kHelp, argc, argv);
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] == '-' && argv[i][1] != '\0') ember_cli::usage_error(kHelp, std::string("unknown option '") + argv[i] + "'");
  if (argc < 4 || argc > 5) ember_cli::usage_error(kHelp, argc < 4 ? "CHECKPOINT, TOKENIZER and OUTPUT are required" : "too many arguments");
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "ember-convert: %s\n", s.to_string().c_str());
    return 1;
  };
  auto ck = read_llama2c(argv[1]);
  if (!ck) return fail(ck.status());
  const std::string tok_path = argv[2];
  const bool spm = tok_path.size() >= 6 && tok_path.compare(tok_path.size() - 6, 6, ".model") == 0;
  auto tok = spm ? Tokenizer::from_sentencepiece(tok_path) : Tokenizer::from_llama2c(tok_path, ck->vocab_size);
  if (!tok) return fail(tok.status());
  if ((*tok)->n_tokens() != ck->vocab_size)
    return fail(format_error(tok_path + ": " + std::to_string((*tok)->n_tokens()) + " tokens, the checkpoint has " +
                             std::to_string(ck->vocab_size)));
  gguf::GgufWriter w;
  std::string name = argc == 5 ? argv[4] : std::string(argv[1]);
  if (argc < 5) {  // the file name without folder and extension
    name = name.substr(name.find_last_of('/') + 1);
    name = name.substr(0, name.find_last_of('.'));
  }
  if (Status s = llama2c_to_gguf(*ck, name, w); !s) return fail(s);
  write_vocab_gguf((*tok)->vocab(), w);
  if (Status s = w.write(argv[3]); !s) return fail(s);
  std::printf("ember-convert: wrote %s (%d layers, width %d, vocabulary %d)\n", argv[3], ck->n_layers, ck->dim, ck->vocab_size);
  return 0;
}
