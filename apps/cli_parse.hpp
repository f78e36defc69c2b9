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
