// --version, --config and the hidden doc generators shared by the executables (cli_parse.hpp).
#include <iostream>

#include "base/log_level.hpp"
#include "cli_docs.hpp"
#include "cli_parse.hpp"
#include "version.hpp"

namespace p2p_cli {

void set_up(CLI::App& app, const std::string& program) {
  app.name(program);
  app.set_version_flag("--version", program + " " + p2p_version_text(), "print the version and exit");
  app.set_config("--config", "",
                 "read options from FILE (INI or TOML: `name = value` with the long option names, a [section] per "
                 "subcommand); options on the command line win")
      ->type_name("FILE");
  // A misspelt key in a config file is an error (exit 2), not silently ignored.
  app.allow_config_extras(CLI::config_extras_mode::error);
  // A usage error is filed as an error by the journal (under systemd), reads as before elsewhere.
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    return p2p::journal_prefix(p2p::LogLevel::error) + CLI::FailureMessage::simple(a, e);
  });
  // Run by the build (apps/CMakeLists.txt), not meant for users: hidden (empty group).
  // Their callbacks run before required options are checked, so they work with none given.
  app.add_flag_callback(
         "--help-man",
         [&app, program] {
           std::cout << man_page(app, program);
           throw CLI::Success();
         },
         "print the man page (roff) and exit")
      ->group("");
  app.add_flag_callback(
         "--help-bash-completion",
         [&app, program] {
           std::cout << bash_completion(app, program);
           throw CLI::Success();
         },
         "print the bash completion script and exit")
      ->group("");
}

void config_error(const CLI::App& app, const CLI::ConfigError& e) {
  const CLI::Option* config = app.get_config_ptr();
  std::string file = config && config->count() > 0 ? config->as<std::string>() : "--config";
  std::cerr << p2p::journal_prefix(p2p::LogLevel::error) << app.get_name() << ": error: " << file << ": " << e.what()
            << "\n";
}

}  // namespace p2p_cli
