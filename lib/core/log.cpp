#include "ember/core/log.h"

#include <mutex>

namespace ember {
namespace {
std::mutex g_mutex;
LogSink g_sink = nullptr;
void* g_user = nullptr;
}  // namespace

void set_log_sink(LogSink sink, void* user_data) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = sink;
  g_user = user_data;
}

void log_message(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);  // one line at a time, and no sink swapped mid-call
  if (g_sink) g_sink(level, message.c_str(), g_user);
}

}  // namespace ember
