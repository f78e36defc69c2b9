// The man page (roff) and the bash completion of an executable, written by
// walking its CLI::App: every visible option and subcommand, as parsed.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace p2p_cli {

std::string man_page(const CLI::App& app, const std::string& program);
std::string bash_completion(const CLI::App& app, const std::string& program);

}  // namespace p2p_cli
