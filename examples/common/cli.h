// What every Ember tool does with its command line: -h or --help prints the help (the usage line
// and what each option does) on standard output and exits 0; a mistake prints what is wrong and
// the usage line on standard error and exits 2.
#ifndef EMBER_EXAMPLES_CLI_H
#define EMBER_EXAMPLES_CLI_H

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ember_cli {

struct Help {
  const char* program;  // "ember-chat"
  const char* usage;    // the usage line(s), without "usage: "
  const char* details;  // a paragraph on what the tool does, then the options, one per line
};

// Prints the help and exits when any argument is -h or --help.
inline void handle_help(const Help& h, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: %s\n\n%s", h.usage, h.details);
      std::exit(0);
    }
  }
}

[[noreturn]] inline void usage_error(const Help& h, const std::string& what) {
  std::fprintf(stderr, "%s: %s\nusage: %s\n(%s --help says more)\n", h.program, what.c_str(), h.usage, h.program);
  std::exit(2);
}

// A whole number or decimal argument of flag, or a usage error.
inline double number(const Help& h, const std::string& flag, const char* v) {
  char* end = nullptr;
  const double x = std::strtod(v, &end);
  if (!*v || *end) usage_error(h, flag + " needs a number, got '" + v + "'");
  return x;
}

}  // namespace ember_cli

#endif
