// The Catch2 runner for all unit tests (one file per library concept beside it).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
