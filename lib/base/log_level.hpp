// Levels of the human-readable lines the programs print (p2p-seed and p2p-download:
// --log-level), and how a line shows its level: "<4>" for the journal, which files it
// under that priority (sd-daemon(3)), else a word ("warning: ").
#pragma once
#include <string>
#include <string_view>

namespace p2p {

enum class LogLevel { error, warning, info, debug };

// "error", "warning", "info" or "debug"; Error(usage) otherwise.
LogLevel parse_log_level(std::string_view text);
// The prefix of a line of this level on stderr.
std::string log_prefix(LogLevel level);
// Whether stderr is connected to the systemd journal ($JOURNAL_STREAM names it).
bool stderr_is_journal();
// "<N>" for the journal, else nothing: for lines whose wording stays as it always was
// on a terminal (p2p-tracker's, errors).
std::string journal_prefix(LogLevel level);

}  // namespace p2p
