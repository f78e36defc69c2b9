// The version the executables print for --version: the project()'s version,
// plus `git describe` when built from a checkout (apps/version.cpp.in, generated).
#pragma once

const char* p2p_version_text();
