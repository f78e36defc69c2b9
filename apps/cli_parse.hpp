// Argument parsing shared by the four executables: any CLI11 parse or
// validation error is a usage error (exit 2); --help and --version exit 0.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#define P2P_PARSE(app, argc, argv)                 \
  try {                                            \
    (app).parse((argc), (argv));                   \
  } catch (const CLI::ConfigError& e) {            \
    p2p_cli::config_error((app), e);               \
    return 2;                                      \
  } catch (const CLI::ParseError& e) {             \
    int rc_ = (app).exit(e);                       \
    return rc_ == 0 ? 0 : 2;                       \
  }

namespace p2p_cli {

// What every executable's command line has besides its own options:
// --version; --config FILE (CLI11's reader: INI or TOML, keys are the long
// option names, the command line wins); and two hidden flags the build runs
// to generate the man page and the bash completion from these very
// definitions (cli_docs.cpp), so neither can drift from the program.
// Call after every option and subcommand is added, before P2P_PARSE.
void set_up(CLI::App& app, const std::string& program);
// A bad --config file, in one line that names it: "PROGRAM: error: FILE: what".
void config_error(const CLI::App& app, const CLI::ConfigError& e);

}  // namespace p2p_cli
