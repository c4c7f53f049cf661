// Ember's log lines go to one global sink set by the host (ember_log_set in the C ABI); silent by
// default, because a library must not write to a product's terminal or files on its own.
#pragma once

#include <string>

namespace ember {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
using LogSink = void (*)(LogLevel level, const char* message, void* user_data);

// Thread-safe; nullptr restores silence.
void set_log_sink(LogSink sink, void* user_data);
void log_message(LogLevel level, const std::string& message);

}  // namespace ember
