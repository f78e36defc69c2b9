// Argument parsing shared by the four executables: any CLI11 parse or
// validation error is a usage error (exit 2); --help exits 0.
#pragma once
#include <CLI/CLI.hpp>

#define P2P_PARSE(app, argc, argv)                 \
  try {                                            \
    (app).parse((argc), (argv));                   \
  } catch (const CLI::ParseError& e) {             \
    int rc_ = (app).exit(e);                       \
    return rc_ == 0 ? 0 : 2;                       \
  }

// --list-bans / --forget-bans, shared by p2p-seed and p2p-download.
struct BanFlags {
  bool list = false, forget = false;
  void add_to(CLI::App& app) {
    app.add_flag("--list-bans", list, "print the peers banned in WORKDIR (address, until, why) and exit");
    app.add_flag("--forget-bans", forget, "lift every ban kept in WORKDIR first, then go on");
  }
};
