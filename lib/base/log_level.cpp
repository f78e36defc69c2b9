// Log levels and line prefixes (log_level.hpp).
#include "base/log_level.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/error.hpp"

namespace p2p {

LogLevel parse_log_level(std::string_view text) {
  if (text == "error") return LogLevel::error;
  if (text == "warning") return LogLevel::warning;
  if (text == "info") return LogLevel::info;
  if (text == "debug") return LogLevel::debug;
  throw Error(ExitCode::usage, fmt::format("--log-level {}: expected error, warning, info or debug", text));
}

bool stderr_is_journal() {
  // systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected; a child
  // whose stderr was redirected elsewhere inherits the variable but not the stream.
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

namespace {
constexpr const char* kSyslog[] = {"<3>", "<4>", "<6>", "<7>"};  // err, warning, info, debug
}

std::string log_prefix(LogLevel level) {
  static const bool journal = stderr_is_journal();
  static constexpr const char* kWord[] = {"error: ", "warning: ", "info: ", "debug: "};
  return (journal ? kSyslog : kWord)[static_cast<int>(level)];
}

std::string journal_prefix(LogLevel level) {
  static const bool journal = stderr_is_journal();
  return journal ? kSyslog[static_cast<int>(level)] : "";
}

}  // namespace p2p
